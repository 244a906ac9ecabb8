//===- PyValue.cpp - Python values of Ultralytics YAML arguments ----------===//
//
// YAML 1.1 scalar resolution (as PyYAML), a small ast.literal_eval, and
// Python repr() for the values that appear in Ultralytics model files.
//
//===----------------------------------------------------------------------===//
#include "frontend/PyValue.h"
#include "dialects/IRMB/IR/NumberFormat.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>

using namespace irmb::frontend;

PyValue PyValue::none(SourceLoc loc) {
  PyValue v;
  v.loc = loc;
  return v;
}
PyValue PyValue::boolean(bool b, SourceLoc loc) {
  PyValue v = none(loc);
  v.kind = Kind::Bool;
  v.boolValue = b;
  return v;
}
PyValue PyValue::integer(int64_t i, SourceLoc loc) {
  PyValue v = none(loc);
  v.kind = Kind::Int;
  v.intValue = i;
  return v;
}
PyValue PyValue::real(double d, SourceLoc loc) {
  PyValue v = none(loc);
  v.kind = Kind::Float;
  v.floatValue = d;
  return v;
}
PyValue PyValue::str(std::string s, SourceLoc loc) {
  PyValue v = none(loc);
  v.kind = Kind::Str;
  v.strValue = std::move(s);
  return v;
}
PyValue PyValue::list(std::vector<PyValue> items, SourceLoc loc) {
  PyValue v = none(loc);
  v.kind = Kind::List;
  v.items = std::move(items);
  return v;
}

std::string PyValue::repr() const {
  switch (kind) {
  case Kind::None:
    return "None";
  case Kind::Bool:
    return boolValue ? "True" : "False";
  case Kind::Int:
    return std::to_string(intValue);
  case Kind::Float:
    return irmb::formatShortestDouble(floatValue);
  case Kind::Str:
    return "'" + strValue + "'";
  case Kind::List: {
    std::string s = "[";
    for (size_t i = 0; i < items.size(); ++i)
      s += (i ? ", " : "") + items[i].repr();
    return s + "]";
  }
  }
  return "?";
}

const char *PyValue::typeName() const {
  switch (kind) {
  case Kind::None:
    return "NoneType";
  case Kind::Bool:
    return "bool";
  case Kind::Int:
    return "int";
  case Kind::Float:
    return "float";
  case Kind::Str:
    return "str";
  case Kind::List:
    return "list";
  }
  return "?";
}

/// Parses a decimal integer with optional sign and '_' separators.
static bool parseInt(const std::string &text, int64_t &out) {
  static const std::regex pattern("[-+]?(0|[1-9][0-9_]*)");
  if (!std::regex_match(text, pattern))
    return false;
  std::string digits;
  for (char c : text)
    if (c != '_')
      digits += c;
  errno = 0;
  long long v = std::strtoll(digits.c_str(), nullptr, 10);
  if (errno == ERANGE)
    return false;
  out = v;
  return true;
}

PyValue irmb::frontend::resolvePlainScalar(const std::string &text,
                                           SourceLoc loc) {
  static const std::regex nullPattern("~|null|Null|NULL|");
  static const std::regex truePattern("yes|Yes|YES|true|True|TRUE|on|On|ON");
  static const std::regex falsePattern(
      "no|No|NO|false|False|FALSE|off|Off|OFF");
  // PyYAML's YAML 1.1 float: needs a '.', exponents need a sign.
  static const std::regex floatPattern(
      "[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?");
  if (std::regex_match(text, nullPattern))
    return PyValue::none(loc);
  if (std::regex_match(text, truePattern))
    return PyValue::boolean(true, loc);
  if (std::regex_match(text, falsePattern))
    return PyValue::boolean(false, loc);
  int64_t i;
  if (parseInt(text, i))
    return PyValue::integer(i, loc);
  if (text != "." && std::regex_match(text, floatPattern)) {
    std::string digits;
    for (char c : text)
      if (c != '_')
        digits += c;
    return PyValue::real(std::strtod(digits.c_str(), nullptr), loc);
  }
  if (text == ".inf" || text == "+.inf" || text == ".Inf")
    return PyValue::real(INFINITY, loc);
  if (text == "-.inf" || text == "-.Inf")
    return PyValue::real(-INFINITY, loc);
  if (text == ".nan" || text == ".NaN")
    return PyValue::real(NAN, loc);
  return PyValue::str(text, loc);
}

namespace {
/// Recursive-descent reader of Python literals.
class LiteralReader {
public:
  LiteralReader(const std::string &text, SourceLoc loc)
      : text(text), loc(loc) {}

  bool read(PyValue &out) {
    if (!value(out))
      return false;
    skipSpace();
    return pos == text.size();
  }

private:
  void skipSpace() {
    while (pos < text.size() && std::isspace((unsigned char)text[pos]))
      ++pos;
  }

  bool value(PyValue &out) {
    skipSpace();
    if (pos >= text.size())
      return false;
    char c = text[pos];
    if (c == '[' || c == '(')
      return sequence(c == '[' ? ']' : ')', out);
    if (c == '\'' || c == '"')
      return quoted(c, out);
    size_t start = pos;
    while (pos < text.size() &&
           (std::isalnum((unsigned char)text[pos]) || text[pos] == '.' ||
            text[pos] == '_' || text[pos] == '+' || text[pos] == '-'))
      ++pos;
    std::string word = text.substr(start, pos - start);
    if (word == "None")
      out = PyValue::none(loc);
    else if (word == "True" || word == "False")
      out = PyValue::boolean(word == "True", loc);
    else
      return number(word, out);
    return true;
  }

  bool number(const std::string &word, PyValue &out) {
    static const std::regex intPattern("[-+]?[0-9][0-9_]*");
    static const std::regex floatPattern(
        "[-+]?(([0-9][0-9_]*)?\\.[0-9_]*|[0-9][0-9_]*)([eE][-+]?[0-9]+)?");
    std::string digits;
    for (char c : word)
      if (c != '_')
        digits += c;
    if (std::regex_match(word, intPattern)) {
      errno = 0;
      long long v = std::strtoll(digits.c_str(), nullptr, 10);
      if (errno == ERANGE)
        return false; // beyond int64: not a value irmb can use
      out = PyValue::integer(v, loc);
      return true;
    }
    if (word != "." && std::regex_match(word, floatPattern)) {
      out = PyValue::real(std::strtod(digits.c_str(), nullptr), loc);
      return true;
    }
    return false;
  }

  bool quoted(char quote, PyValue &out) {
    size_t end = text.find(quote, pos + 1);
    if (end == std::string::npos)
      return false;
    out = PyValue::str(text.substr(pos + 1, end - pos - 1), loc);
    pos = end + 1;
    return true;
  }

  bool sequence(char close, PyValue &out) {
    ++pos;
    std::vector<PyValue> items;
    skipSpace();
    while (pos < text.size() && text[pos] != close) {
      PyValue item;
      if (!value(item))
        return false;
      items.push_back(std::move(item));
      skipSpace();
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        skipSpace();
      } else if (pos >= text.size() || text[pos] != close) {
        return false;
      }
    }
    if (pos >= text.size())
      return false;
    ++pos;
    out = PyValue::list(std::move(items), loc);
    return true;
  }

  const std::string &text;
  SourceLoc loc;
  size_t pos = 0;
};
} // namespace

bool irmb::frontend::literalEval(const std::string &text, SourceLoc loc,
                                 PyValue &out) {
  PyValue value;
  if (!LiteralReader(text, loc).read(value))
    return false;
  out = std::move(value);
  return true;
}
