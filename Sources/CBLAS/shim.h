#ifndef VMAE_CBLAS_SHIM_H
#define VMAE_CBLAS_SHIM_H
#include <cblas.h>
// OpenBLAS thread control (declared in openblas_config.h / cblas.h of OpenBLAS).
static inline void vmae_blas_set_threads(int n) { openblas_set_num_threads(n); }
static inline int vmae_blas_get_threads(void) { return openblas_get_num_threads(); }
#endif
