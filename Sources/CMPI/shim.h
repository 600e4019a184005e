#ifndef VMAE_CMPI_SHIM_H
#define VMAE_CMPI_SHIM_H
// Open MPI's C API for data-parallel training. Swift cannot import the predefined handles
// (they are casts of addresses of C globals) nor MPI_IN_PLACE / MPI_STATUS_IGNORE: each is
// returned from a static inline function here. The C++ bindings are kept out.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

// communicators
static inline MPI_Comm vmae_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm vmae_mpi_comm_self(void) { return MPI_COMM_SELF; }
static inline MPI_Comm vmae_mpi_comm_null(void) { return MPI_COMM_NULL; }

// datatypes
static inline MPI_Datatype vmae_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype vmae_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype vmae_mpi_int(void) { return MPI_INT; }
static inline MPI_Datatype vmae_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype vmae_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype vmae_mpi_char(void) { return MPI_CHAR; }
static inline MPI_Datatype vmae_mpi_byte(void) { return MPI_BYTE; }

// reduction operations
static inline MPI_Op vmae_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op vmae_mpi_max(void) { return MPI_MAX; }
static inline MPI_Op vmae_mpi_min(void) { return MPI_MIN; }
static inline MPI_Op vmae_mpi_prod(void) { return MPI_PROD; }
static inline MPI_Op vmae_mpi_lor(void) { return MPI_LOR; }
static inline MPI_Op vmae_mpi_land(void) { return MPI_LAND; }

// error handlers
static inline MPI_Errhandler vmae_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline MPI_Errhandler vmae_mpi_errors_are_fatal(void) { return MPI_ERRORS_ARE_FATAL; }

// requests, info, special buffers and statuses
static inline MPI_Request vmae_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Info vmae_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline void *vmae_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *vmae_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }

// communicator split types
static inline int vmae_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }

// constants (plain ints, but kept here so every MPI name vmae uses has one home)
static inline int vmae_mpi_success(void) { return MPI_SUCCESS; }
static inline int vmae_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int vmae_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int vmae_mpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
#endif
