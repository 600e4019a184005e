#ifndef VMAE_CPNG_SHIM_H
#define VMAE_CPNG_SHIM_H
#include <png.h>
// Macros Swift cannot import, as functions (simplified API only: no setjmp).
static inline unsigned vmae_PNG_IMAGE_VERSION(void) { return PNG_IMAGE_VERSION; }
static inline unsigned vmae_PNG_FORMAT_RGB(void) { return PNG_FORMAT_RGB; }
static inline unsigned vmae_PNG_FORMAT_RGBA(void) { return PNG_FORMAT_RGBA; }
static inline unsigned vmae_PNG_FORMAT_GRAY(void) { return PNG_FORMAT_GRAY; }
static inline int vmae_PNG_IMAGE_FAILED(png_image *img) { return PNG_IMAGE_FAILED(*img); }
static inline size_t vmae_PNG_IMAGE_SIZE(png_image *img) { return PNG_IMAGE_SIZE(*img); }
static inline size_t vmae_PNG_IMAGE_ROW_STRIDE(png_image *img) { return PNG_IMAGE_ROW_STRIDE(*img); }
#endif
