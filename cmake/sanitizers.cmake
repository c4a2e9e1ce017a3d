# lab_sanitizers: an INTERFACE target carrying the sanitizer chosen by
# LAB_SANITIZER ("" for none, "address,undefined", or "thread"). Link it
# PRIVATE. ThreadSanitizer is never combined with AddressSanitizer.
set(LAB_SANITIZER "" CACHE STRING "Sanitizers: empty, address,undefined, or thread")

add_library(lab_sanitizers INTERFACE)
if(LAB_SANITIZER)
  if(LAB_SANITIZER MATCHES "thread" AND LAB_SANITIZER MATCHES "address")
    message(FATAL_ERROR "ThreadSanitizer cannot be combined with AddressSanitizer")
  endif()
  target_compile_options(lab_sanitizers INTERFACE
    -fsanitize=${LAB_SANITIZER} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(lab_sanitizers INTERFACE -fsanitize=${LAB_SANITIZER})
endif()
