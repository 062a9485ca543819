# Toolchain file: cross-compile for 64-bit ARM Linux (Raspberry Pi 3/4/5 running a 64-bit OS) with the
# Debian/Ubuntu g++-aarch64-linux-gnu package. Run the results with qemu-aarch64 -L /usr/aarch64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(NETSCORE_CROSS_PREFIX aarch64-linux-gnu- CACHE STRING "Prefix of the cross compiler executables")
find_program(CMAKE_C_COMPILER ${NETSCORE_CROSS_PREFIX}gcc)
find_program(CMAKE_CXX_COMPILER ${NETSCORE_CROSS_PREFIX}g++)
if(NOT CMAKE_CXX_COMPILER)
  message(FATAL_ERROR "${NETSCORE_CROSS_PREFIX}g++ not found: install g++-aarch64-linux-gnu")
endif()

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
