#ifndef VMAE_CFFMPEG_SHIM_H
#define VMAE_CFFMPEG_SHIM_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <errno.h>
#include <string.h>
#include <stdarg.h>
// Macros Swift cannot import, as functions.
static inline int vmae_AVERROR(int e) { return AVERROR(e); }
static inline int vmae_AVERROR_EOF(void) { return AVERROR_EOF; }
static inline int vmae_AVERROR_EAGAIN(void) { return AVERROR(EAGAIN); }
static inline int64_t vmae_AV_NOPTS_VALUE(void) { return AV_NOPTS_VALUE; }
static inline AVRational vmae_AV_TIME_BASE_Q(void) { return AV_TIME_BASE_Q; }
static inline int vmae_AV_TIME_BASE(void) { return AV_TIME_BASE; }
static inline void vmae_av_err2str(int errnum, char *buf, size_t size) { av_strerror(errnum, buf, size); }
static inline void vmae_av_quiet(void) { av_log_set_level(AV_LOG_QUIET); }

// More error codes (FFERRTAG macros are not importable).
static inline int vmae_AVERROR_EXIT(void) { return AVERROR_EXIT; }
static inline int vmae_AVERROR_INVALIDDATA(void) { return AVERROR_INVALIDDATA; }
static inline int vmae_AVERROR_STREAM_NOT_FOUND(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int vmae_AVERROR_DECODER_NOT_FOUND(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int vmae_AVERROR_ENCODER_NOT_FOUND(void) { return AVERROR_ENCODER_NOT_FOUND; }

// Log capture: FFmpeg's log callback takes a va_list, which Swift cannot handle. This one never
// prints; it keeps the last message at `error` level or worse (per thread) so that a thrown error
// can say e.g. "moov atom not found" instead of only "Invalid data found when processing input".
// (A function-local static: Swift emits it with the function; a file-level static it does not.)
static inline char *vmae_last_log_buf(void) {
    static _Thread_local char buf[256];
    return buf;
}
static inline void vmae_log_capture_cb(void *avcl, int level, const char *fmt, va_list vl) {
    if (level > AV_LOG_ERROR) return;
    int print_prefix = 0;
    char line[256];
    av_log_format_line2(avcl, level, fmt, vl, line, (int)sizeof line, &print_prefix);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = 0;
    if (n == 0) return;
    memcpy(vmae_last_log_buf(), line, n + 1);
}
/// Silence FFmpeg's own printing but keep the last error message for vmae_av_last_log().
static inline void vmae_av_capture_log(void) {
    av_log_set_level(AV_LOG_ERROR);
    av_log_set_callback(vmae_log_capture_cb);
}
/// Print FFmpeg's log to stderr again at the given level (e.g. AV_LOG_INFO).
static inline void vmae_av_default_log(int level) {
    av_log_set_callback(av_log_default_callback);
    av_log_set_level(level);
}
static inline const char *vmae_av_last_log(void) { return vmae_last_log_buf(); }
static inline void vmae_av_clear_last_log(void) { vmae_last_log_buf()[0] = 0; }
#endif
