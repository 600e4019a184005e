#ifndef VMAE_CHDF5_SHIM_H
#define VMAE_CHDF5_SHIM_H
#if __has_include(<hdf5.h>)
#include <hdf5.h>
#else
#include <hdf5/serial/hdf5.h>
#endif
#include <stdio.h>
#include <string.h>
// Macros and globals Swift cannot import, as functions.
static inline hid_t vmae_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t vmae_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t vmae_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t vmae_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t vmae_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t vmae_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t vmae_H5T_NATIVE_HBOOL(void) { return H5T_NATIVE_HBOOL; }
static inline hid_t vmae_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t vmae_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t vmae_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t vmae_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline hid_t vmae_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline size_t vmae_H5T_VARIABLE(void) { return H5T_VARIABLE; }
static inline unsigned vmae_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned vmae_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline unsigned vmae_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned vmae_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline hid_t vmae_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t vmae_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t vmae_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t vmae_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t vmae_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t vmae_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t vmae_H5E_DEFAULT(void) { return H5E_DEFAULT; }

// Object type and attribute count of the object at `name` (relative to loc), across HDF5 versions.
// Returns <0 on failure; *type gets an H5O_type_t value.
static inline herr_t vmae_h5_object_info(hid_t loc, const char *name, int *type, unsigned long long *num_attrs) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    herr_t st = H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS, H5P_DEFAULT);
#elif H5_VERSION_GE(1, 10, 3)
    H5O_info_t info;
    herr_t st = H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS, H5P_DEFAULT);
#else
    H5O_info_t info;
    herr_t st = H5Oget_info_by_name(loc, name, &info, H5P_DEFAULT);
#endif
    if (st < 0) return st;
    if (type) *type = (int)info.type;
    if (num_attrs) *num_attrs = (unsigned long long)info.num_attrs;
    return 0;
}

// Where the object at `name` lives: its file's number and its address (1.10) or a hash of its
// token (1.12+). Two links to one object give the same pair. Returns <0 on failure.
static inline herr_t vmae_h5_object_identity(hid_t loc, const char *name, unsigned long *fileno, unsigned long long *addr) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    herr_t st = H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT);
    if (st < 0) return st;
    unsigned long long h = 1469598103934665603ULL;
    const unsigned char *b = (const unsigned char *)&info.token;
    for (size_t i = 0; i < sizeof info.token; i++) { h ^= b[i]; h *= 1099511628211ULL; }
    *addr = h;
#elif H5_VERSION_GE(1, 10, 3)
    H5O_info_t info;
    herr_t st = H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT);
    if (st < 0) return st;
    *addr = (unsigned long long)info.addr;
#else
    H5O_info_t info;
    herr_t st = H5Oget_info_by_name(loc, name, &info, H5P_DEFAULT);
    if (st < 0) return st;
    *addr = (unsigned long long)info.addr;
#endif
    *fileno = (unsigned long)info.fileno;
    return 0;
}

// Use file locking when the file system supports it, silently skip it when it does not.
static inline herr_t vmae_h5_set_file_locking(hid_t fapl, int use, int ignore_when_disabled) {
#if H5_VERSION_GE(1, 10, 7)
    return H5Pset_file_locking(fapl, (hbool_t)use, (hbool_t)ignore_when_disabled);
#else
    (void)fapl; (void)use; (void)ignore_when_disabled; return 0;
#endif
}

// The error stack as text: the outermost and innermost descriptions of the default stack,
// written into buf (NUL-terminated). The stack is cleared afterwards. Returns the length.
typedef struct { char outer[256]; char inner[256]; unsigned count; } vmae_h5_errinfo;
static inline herr_t vmae_h5_err_walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
    vmae_h5_errinfo *info = (vmae_h5_errinfo *)data;
    const char *d = (e && e->desc) ? e->desc : "";
    if (n == 0) snprintf(info->inner, sizeof info->inner, "%s", d);
    snprintf(info->outer, sizeof info->outer, "%s", d);
    info->count = n + 1;
    return 0;
}
static inline size_t vmae_h5_error_text(char *buf, size_t cap) {
    vmae_h5_errinfo info;
    info.outer[0] = 0; info.inner[0] = 0; info.count = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, vmae_h5_err_walk_cb, &info);
    H5Eclear2(H5E_DEFAULT);
    if (cap == 0) return 0;
    buf[0] = 0;
    if (info.count == 0) return 0;
    int len;
    if (info.count == 1 || strcmp(info.outer, info.inner) == 0) len = snprintf(buf, cap, "%s", info.inner);
    else len = snprintf(buf, cap, "%s (%s)", info.outer, info.inner);
    return len < 0 ? 0 : (size_t)len;
}

// Fill *fd with the POSIX file descriptor of a file opened with the default (sec2) driver.
static inline herr_t vmae_h5_file_fd(hid_t file, int *fd) {
    void *handle = NULL;
    herr_t st = H5Fget_vfd_handle(file, H5P_DEFAULT, &handle);
    if (st < 0 || handle == NULL) return -1;
    *fd = *(int *)handle;
    return 0;
}
// Silence HDF5's automatic error-stack printing; errors become Swift errors instead.
static inline void vmae_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
// Error stacks (and so the auto-print setting) are per thread when HDF5 is built thread-safe,
// as Debian's libhdf5 "serial" is: silence the calling thread's stack, once per thread.
static inline void vmae_h5_silence_errors_on_this_thread(void) {
    static _Thread_local int silenced = 0;
    if (!silenced) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); silenced = 1; }
}
#endif
