#ifndef VMAE_CHDF5_SHIM_H
#define VMAE_CHDF5_SHIM_H
#if __has_include(<hdf5.h>)
#include <hdf5.h>
#else
#include <hdf5/serial/hdf5.h>
#endif
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
// Silence HDF5's automatic error-stack printing; errors become Swift errors instead.
static inline void vmae_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
