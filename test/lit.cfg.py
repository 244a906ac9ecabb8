# lit configuration for irmb: .mlir and .yaml tests under test/, with the
# irmb tools, FileCheck and `not` on PATH, and %shared pointing at ../shared.
import os
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "irmb"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".yaml", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.irmb_obj_root, "test")
config.environment["FILECHECK_OPTS"] = "-enable-var-scope"

llvm_config.use_default_substitutions()
config.substitutions.append(("%shared", config.irmb_shared_dir))
config.substitutions.append(("%python", sys.executable))
llvm_config.add_tool_substitutions(
    ["irmb-opt", "irmb-compile", "irmb-reference", "irmb-run", "irmb-npy-compare", "irmb-unittests",
     "irmb-kernels-avx512-tests"],
    [config.irmb_tools_dir, config.llvm_tools_dir])
llvm_config.with_environment("PATH", config.irmb_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# `avx512` when this CPU runs AVX-512F code (the AVX-512 kernel tests).
try:
    with open("/proc/cpuinfo") as cpuinfo:
        if " avx512f" in cpuinfo.read():
            config.available_features.add("avx512")
except OSError:
    pass

# CUDA: `nvcc` when the toolkit is installed (CI has it; the nvcc tests are
# then required to pass), `cuda-device` when a GPU answers nvidia-smi (tests
# that execute on the GPU are UNSUPPORTED elsewhere).
import shutil
import subprocess
nvcc = os.environ.get("NVCC") or ("/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else shutil.which("nvcc"))
if nvcc:
    config.available_features.add("nvcc")
try:
    if subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=30).returncode == 0:
        config.available_features.add("cuda-device")
except (OSError, subprocess.SubprocessError):
    pass
config.substitutions.append(("%irmb_src", config.irmb_src_root))
config.substitutions.append(("%irmb_lib", os.path.join(config.irmb_obj_root, "lib")))
if nvcc:
    config.substitutions.append(("%nvcc", nvcc))
# The Python module's tests run under the interpreter it was built for
# (Debian's python3 with numpy), with build/python on PYTHONPATH.
config.substitutions.append(("%irmb_python", config.irmb_module_python))
config.substitutions.append(("%irmb_module_path", os.path.join(config.irmb_obj_root, "python")))
