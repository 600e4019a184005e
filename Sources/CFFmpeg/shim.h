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
// Macros Swift cannot import, as functions.
static inline int vmae_AVERROR(int e) { return AVERROR(e); }
static inline int vmae_AVERROR_EOF(void) { return AVERROR_EOF; }
static inline int vmae_AVERROR_EAGAIN(void) { return AVERROR(EAGAIN); }
static inline int64_t vmae_AV_NOPTS_VALUE(void) { return AV_NOPTS_VALUE; }
static inline AVRational vmae_AV_TIME_BASE_Q(void) { return AV_TIME_BASE_Q; }
static inline int vmae_AV_TIME_BASE(void) { return AV_TIME_BASE; }
static inline void vmae_av_err2str(int errnum, char *buf, size_t size) { av_strerror(errnum, buf, size); }
static inline void vmae_av_quiet(void) { av_log_set_level(AV_LOG_QUIET); }
#endif
