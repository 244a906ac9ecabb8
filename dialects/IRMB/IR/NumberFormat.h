//===- NumberFormat.h - shortest exact text of a double ---------*- C++ -*-===//
//
// One formatting rule shared by the IR printer (`#irmb.mmb` ratios) and the
// frontend (Python repr of YAML arguments): the fewest significant digits
// that read back to the same double, always with a '.' or an exponent, as
// Python's repr(float) prints (`1.0`, `0.25`, `1e-05`).
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_DIALECTS_IRMB_IR_NUMBERFORMAT_H
#define IRMB_DIALECTS_IRMB_IR_NUMBERFORMAT_H

#include "dialects/IRMB/IR/IRMBNamespace.h"
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace irmb {

/// The shortest text that reads back to `value` exactly.
inline std::string formatShortestDouble(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value)
      break;
  }
  std::string text = buf;
  if (text.find_first_of(".e") == std::string::npos)
    text += ".0";
  return text;
}

} // namespace irmb

#endif // IRMB_DIALECTS_IRMB_IR_NUMBERFORMAT_H
