"""python-for-android recipe: zxing-cpp's C API as libZXing.so (readers only, QR only) for the kiosk's
ctypes decoder backend (kiosk/scanner/zxing_c.py). The zxing-cpp wheel has no Android build; its own
C API needs only a C++ compiler. Same source and CMake options as tools/android/build_zxing_c.sh
(tests/android/test_recipes.py checks they agree and runs these CMake steps on the desktop toolchain).
"""

import os
from multiprocessing import cpu_count

VERSION = "3.1.1"
# The zxing-cpp sdist on PyPI: it carries core/ (the C++ library and ZXingC.h).
URL = "https://files.pythonhosted.org/packages/source/z/zxing-cpp/zxing_cpp-{version}.tar.gz"
SHA256 = "1051a521b21a9fe206702ad4186aeb195154e3e1badcd99576d030723f36382b"
ZXING_CMAKE_ARGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=ON",
    "-DZXING_C_API=ON",
    "-DZXING_READERS=ON",
    "-DZXING_WRITERS=OFF",
    "-DZXING_ENABLE_1D=OFF",
    "-DZXING_ENABLE_AZTEC=OFF",
    "-DZXING_ENABLE_DATAMATRIX=OFF",
    "-DZXING_ENABLE_MAXICODE=OFF",
    "-DZXING_ENABLE_PDF417=OFF",
    "-DZXING_ENABLE_QRCODE=ON",
]


def cmake_commands(source_dir, build_dir, toolchain_args=(), jobs=None):
    """The two CMake steps: configure core/ with ZXING_CMAKE_ARGS (+ the toolchain's), then build."""
    configure = ["cmake", "-S", os.path.join(source_dir, "core"), "-B", build_dir, *toolchain_args, *ZXING_CMAKE_ARGS]
    build = ["cmake", "--build", build_dir, "--parallel", str(jobs or cpu_count())]
    return [configure, build]


try:
    import sh
    from pythonforandroid.logger import shprint
    from pythonforandroid.recipe import Recipe
except ImportError:  # imported outside python-for-android (the desktop tests read the steps above)
    Recipe = None

if Recipe is not None:

    class LibZXingRecipe(Recipe):
        version = VERSION
        url = URL
        sha256sum = SHA256
        depends = []
        built_libraries = {"libZXing.so": "build"}
        need_stl_shared = True

        def build_arch(self, arch):
            env = self.get_recipe_env(arch)
            source_dir = self.get_build_dir(arch.arch)
            toolchain = [
                "-DCMAKE_TOOLCHAIN_FILE=" + os.path.join(self.ctx.ndk_dir, "build", "cmake", "android.toolchain.cmake"),
                "-DANDROID_ABI=" + arch.arch,
                "-DANDROID_PLATFORM=android-" + str(self.ctx.ndk_api),
                "-DANDROID_STL=" + self.stl_lib_name,
                "-DCMAKE_SKIP_RPATH=ON",
            ]
            for command in cmake_commands(source_dir, os.path.join(source_dir, "build"), toolchain):
                shprint(sh.Command(command[0]), *command[1:], _env=env)

    recipe = LibZXingRecipe()
