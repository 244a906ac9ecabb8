//===- PyValue.h - Python values of Ultralytics YAML arguments -*- C++ -*-===//
//
// Ultralytics evaluates each YAML layer argument as Python would (YAML 1.1
// scalars, then `nc` lookup or ast.literal_eval for strings). PyValue is that
// value: None, bool, int, float, str or a list, with the YAML position it came
// from so later errors can name it. `repr()` prints it as Python's repr does,
// which the summary uses for its "arguments" column.
//
//===----------------------------------------------------------------------===//
#ifndef IRMB_FRONTEND_PYVALUE_H
#define IRMB_FRONTEND_PYVALUE_H

#include <cstdint>
#include <string>
#include <vector>

namespace irmb::frontend {

/// 1-based position in the YAML file (0 = unknown).
struct SourceLoc {
  int line = 0;
  int column = 0;
};

/// A Python value from a YAML model file.
struct PyValue {
  enum class Kind { None, Bool, Int, Float, Str, List };
  Kind kind = Kind::None;
  bool boolValue = false;
  int64_t intValue = 0;
  double floatValue = 0.0;
  std::string strValue;
  std::vector<PyValue> items;
  SourceLoc loc;

  static PyValue none(SourceLoc loc = {});
  static PyValue boolean(bool v, SourceLoc loc = {});
  static PyValue integer(int64_t v, SourceLoc loc = {});
  static PyValue real(double v, SourceLoc loc = {});
  static PyValue str(std::string v, SourceLoc loc = {});
  static PyValue list(std::vector<PyValue> v, SourceLoc loc = {});

  /// Python's repr() of the value (`None`, `True`, `0.25`, `'nearest'`,
  /// `[64, 128]`).
  std::string repr() const;
  /// Python type name (`NoneType`, `bool`, `int`, `float`, `str`, `list`).
  const char *typeName() const;
};

/// Resolves a plain (unquoted) YAML scalar as PyYAML's safe_load does:
/// null, bool (true/yes/on ...), int, float, else a string.
PyValue resolvePlainScalar(const std::string &text, SourceLoc loc);

/// ast.literal_eval of a string: numbers, True/False/None, quoted strings and
/// lists/tuples of those. Returns false (value untouched) when Python would
/// raise, in which case Ultralytics keeps the string.
bool literalEval(const std::string &text, SourceLoc loc, PyValue &out);

} // namespace irmb::frontend

#endif // IRMB_FRONTEND_PYVALUE_H
