#!/usr/bin/env python3
"""Disassembles the micro-kernels of compiled models (the GEMM's and the direct
convolution's) and fails on any stack access inside their loops.

Builds MODEL once per (ISA, host compiler, tuning) with irmb-compile (CXX and
IRMB_CXXFLAGS select the compiler and -mtune), runs objdump on the .so, finds
every instantiation of irmb::kernels::microKernel<...> and microKernelTaps<...>
(DirectConv.h), and inside each inner
loop (the range from a backward jump's target to the jump that does FMAs and
holds no other such loop) looks for a memory operand based on %rsp, or on %rbp where the function made %rbp
its frame pointer: an accumulator or a B vector kept in memory. Prints one
line per build (micro-kernels seen, inner-loop instructions) and exits 1 with
the offending instructions on the first failure.

Usage: check-microkernel-asm.py IRMB_COMPILE MODEL OUTDIR CONFIG...
CONFIG is ISA:CXX[:TUNE[:FLAGS]], e.g. avx512:g++:icelake-server or
avx2:clang++-22; FLAGS are added to the host compiler's (avx2:g++:generic:-O0
plants spills, to show the check fails).
"""
import os
import re
import subprocess
import sys

FUNC = re.compile(r"^([0-9a-f]+) <(.*)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
JUMP = re.compile(r"^j[a-z]*$")
MICRO_KERNEL = re.compile(r"irmb::kernels::microKernel(Taps)?<")
TARGET = re.compile(r"^([0-9a-f]+)\b")


def functions(disassembly):
    """Yields (name, [(address, mnemonic, operands)]) per function."""
    name, body = None, []
    for line in disassembly.splitlines():
        m = FUNC.match(line)
        if m:
            if name is not None:
                yield name, body
            name, body = m.group(2), []
            continue
        m = INSN.match(line)
        if m and name is not None:
            body.append((int(m.group(1), 16), m.group(2), m.group(3)))
    if name is not None:
        yield name, body


def loop_ranges(body):
    """(start, end) address ranges of every backward jump in the body."""
    start_of = {addr for addr, _, _ in body}
    for addr, mnemonic, operands in body:
        if not JUMP.match(mnemonic):
            continue
        m = TARGET.match(operands)
        if m:
            target = int(m.group(1), 16)
            if target <= addr and target in start_of:
                yield target, addr


def stack_accesses(body, lo, hi, frame_pointer):
    bad = []
    for addr, mnemonic, operands in body:
        if lo <= addr <= hi:
            if "(%rsp" in operands or (frame_pointer and "(%rbp" in operands):
                bad.append("%x: %s %s" % (addr, mnemonic, operands))
    return bad


def check(so):
    out = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", so],
                         capture_output=True, text=True, check=True).stdout
    kernels, failures, loop_sizes = 0, [], []
    for name, body in functions(out):
        if not MICRO_KERNEL.search(name) or name.endswith("@plt"):
            continue
        kernels += 1
        frame_pointer = any(m == "mov" and ops.startswith("%rsp,%rbp")
                            for _, m, ops in body[:8])
        fma_ranges = []
        for lo, hi in loop_ranges(body):
            inside = [m for a, m, _ in body if lo <= a <= hi]
            if any(m.startswith(("vfmadd", "mulps", "addps")) for m in inside):
                fma_ranges.append((lo, hi, inside))
        # The inner loops: FMA loops that hold no other FMA loop.
        inner = [(lo, hi, inside) for lo, hi, inside in fma_ranges
                 if not any((l, h) != (lo, hi) and lo <= l and h <= hi
                            for l, h, _ in fma_ranges)]
        fma_loops = 0
        for lo, hi, inside in inner:
            fma_loops += 1
            loop_sizes.append(len(inside))
            bad = stack_accesses(body, lo, hi, frame_pointer)
            if bad:
                failures.append("%s: stack access in its loop:\n    %s"
                                % (name, "\n    ".join(bad)))
        if fma_loops == 0:
            failures.append("%s: no FMA loop found" % name)
    if kernels == 0:
        failures.append("no irmb::kernels::microKernel<...> function in " + so)
    return kernels, loop_sizes, failures


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    compile_tool, model, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    status = 0
    for config in sys.argv[4:]:
        isa, cxx, *rest = config.split(":")
        flags = ("-mtune=" + rest[0] if rest and rest[0] else "") + \
            (" " + rest[1] if len(rest) > 1 else "")
        so = os.path.join(outdir, re.sub(r"[^A-Za-z0-9]", "_", config) + ".so")
        env = dict(os.environ, CXX=cxx, IRMB_CXXFLAGS=flags)
        build = subprocess.run([compile_tool, model, "--imgsz", "64", "--cpu", isa,
                                "--seed", "1", "-o", so],
                               env=env, capture_output=True, text=True)
        if build.returncode != 0:
            print("%s: build failed:\n%s" % (config, build.stderr))
            return 1
        kernels, sizes, failures = check(so)
        if failures:
            print("%s: FAIL\n  %s" % (config, "\n  ".join(failures)))
            status = 1
        else:
            print("%s: %d micro-kernels, no stack access in their FMA loops "
                  "(largest loop %d instructions)" % (config, kernels, max(sizes)))
    return status


if __name__ == "__main__":
    sys.exit(main())
