//===- Unpickler.cpp - a pickle reader that never runs the pickle ---------===//
//
// A stack machine over the opcode bytes: every read is checked against the
// bytes left, every pop against the stack (and the current MARK), every
// memo index against the memo, and every value counts towards the limits.
// REDUCE / NEWOBJ / BUILD on a global give it meaning only from the fixed
// table in `reduce`; anything else becomes an inert Object.
//
//===----------------------------------------------------------------------===//
#include "weights/Unpickler.h"

#include "weights/SafeTensors.h"
#include <cstring>
#include <unordered_map>

using namespace irmb::weights;
using Kind = PickleValue::Kind;

const PickleValue *PickleValue::get(std::string_view key) const {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (it->first->kind == Kind::Str && it->first->text == key)
      return it->second;
  return nullptr;
}

bool irmb::weights::isCodeRunningGlobal(std::string_view module,
                                        std::string_view name) {
  // Modules whose globals exist to run programs, touch files or processes,
  // import or build code, or reach arbitrary attributes (operator's
  // attrgetter / methodcaller gadgets). Harmless callables that benign
  // checkpoints do pickle (functools.partial, pathlib, numpy) stay inert
  // placeholders instead.
  static const char *const kModules[] = {
      "os",      "posix",     "nt",         "subprocess", "sys",
      "shutil",  "socket",    "importlib",  "runpy",      "code",
      "codeop",  "pty",       "pickle",     "_pickle",    "marshal",
      "ctypes",  "multiprocessing",         "webbrowser", "types",
      "operator", "asyncio",  "signal",     "commands",   "popen2",
      "pdb",     "timeit"};
  std::string_view top = module.substr(0, module.find('.'));
  for (const char *m : kModules)
    if (module == m || top == m)
      return true;
  if (module == "builtins" || module == "__builtin__") {
    // Only the plain container and number types are harmless.
    static const char *const kSafe[] = {"set",   "frozenset", "list",
                                        "dict",  "tuple",     "int",
                                        "float", "bool",      "str",
                                        "bytes", "bytearray", "complex",
                                        "slice", "range",     "object"};
    for (const char *s : kSafe)
      if (name == s)
        return false;
    return true;
  }
  if (module == "dill._dill" || module == "dill")
    return name != "_load_type";
  if (module == "torch" || module.substr(0, 6) == "torch.")
    return name == "load" || name == "_load" || module == "torch.hub" ||
           module == "torch.jit" || module == "torch._ops" ||
           module == "torch.ops";
  return false;
}

namespace {

class Machine {
public:
  Machine(std::string_view bytes, const std::string &path,
          const std::string &member, const PickleLimits &limits)
      : bytes(bytes), path(path), member(member), limits(limits) {}

  Pickle run() {
    while (true) {
      opStart = pos;
      uint8_t op = byte();
      if (op == '.') { // STOP
        result.root = pop();
        if (!stack.empty() || !marks.empty())
          fail("values left on the stack at STOP");
        return std::move(result);
      }
      step(op);
    }
  }

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw CheckpointError(path, member + " offset " + std::to_string(opStart) +
                                    ": " + what);
  }

  // ---- reading the opcode stream -----------------------------------------
  const char *take(uint64_t n) {
    if (n > bytes.size() - pos)
      fail("truncated pickle (an opcode needs " + std::to_string(n) +
           " more bytes, " + std::to_string(bytes.size() - pos) + " left)");
    const char *p = bytes.data() + pos;
    pos += n;
    return p;
  }
  uint8_t byte() { return static_cast<uint8_t>(*take(1)); }
  uint64_t unsignedLE(int width) {
    const char *p = take(width);
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i)
      v = (v << 8) | static_cast<uint8_t>(p[i]);
    return v;
  }
  std::string line() {
    size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos)
      fail("truncated pickle (a text argument has no end of line)");
    std::string s(bytes.substr(pos, end - pos));
    pos = end + 1;
    return s;
  }

  // ---- values and the stack ----------------------------------------------
  PickleValue *make(Kind kind) {
    if (result.arena.size() >= limits.maxValues)
      fail("more than " + std::to_string(limits.maxValues) +
           " objects in the pickle");
    result.arena.push_back(std::make_unique<PickleValue>());
    PickleValue *v = result.arena.back().get();
    v->kind = kind;
    v->offset = opStart;
    return v;
  }
  void push(PickleValue *v) {
    if (stack.size() + marks.size() >= limits.maxStack)
      fail("pickle stack deeper than " + std::to_string(limits.maxStack));
    stack.push_back(v);
  }
  size_t floor() const { return marks.empty() ? 0 : marks.back(); }
  PickleValue *pop() {
    if (stack.size() <= floor())
      fail("pickle stack underflow");
    PickleValue *v = stack.back();
    stack.pop_back();
    return v;
  }
  PickleValue *&top() {
    if (stack.size() <= floor())
      fail("pickle stack underflow");
    return stack.back();
  }
  /// Pops everything above the last MARK, and the mark.
  std::vector<PickleValue *> popMark() {
    if (marks.empty())
      fail("no MARK on the stack");
    size_t mark = marks.back();
    marks.pop_back();
    std::vector<PickleValue *> items(stack.begin() + mark, stack.end());
    stack.resize(mark);
    return items;
  }
  PickleValue *makeInt(int64_t v) {
    PickleValue *p = make(Kind::Int);
    p->integer = v;
    return p;
  }
  PickleValue *makeStr(Kind kind, uint64_t length) {
    PickleValue *p = make(kind);
    p->text.assign(take(length), length);
    return p;
  }
  PickleValue *makeTuple(std::vector<PickleValue *> items) {
    PickleValue *p = make(Kind::Tuple);
    p->items = std::move(items);
    return p;
  }
  void memoPut(uint64_t index) {
    if (index >= limits.maxMemo)
      fail("memo index " + std::to_string(index) + " beyond the limit of " +
           std::to_string(limits.maxMemo));
    memo[index] = top();
  }
  PickleValue *memoGet(uint64_t index) {
    auto it = memo.find(index);
    if (it == memo.end())
      fail("memo index " + std::to_string(index) + " was never stored");
    return it->second;
  }
  PickleValue *makeGlobal(std::string module, std::string name) {
    if (isCodeRunningGlobal(module, name))
      fail("refusing the global '" + module + "." + name +
           "': it can run code, and a checkpoint never needs it (the file is "
           "not a plain PyTorch checkpoint; it was not executed)");
    PickleValue *g = make(Kind::Global);
    g->module = std::move(module);
    g->name = std::move(name);
    return g;
  }

  /// Counts `n` container elements against the limit.
  void charge(uint64_t n) {
    itemsCharged += n;
    if (itemsCharged > limits.maxItems)
      fail("more than " + std::to_string(limits.maxItems) +
           " container elements in the pickle");
  }

  // ---- containers --------------------------------------------------------
  void appendTo(PickleValue *list, const std::vector<PickleValue *> &items) {
    if (list->kind != Kind::List && list->kind != Kind::Set &&
        list->kind != Kind::Object)
      fail("APPEND to a value that is not a list");
    charge(items.size());
    list->items.insert(list->items.end(), items.begin(), items.end());
  }
  void setItems(PickleValue *dict, const std::vector<PickleValue *> &kv) {
    if (kv.size() % 2)
      fail("SETITEMS with an odd number of values");
    if (dict->kind != Kind::Dict && dict->kind != Kind::Object)
      fail("SETITEM on a value that is not a dict");
    for (size_t i = 0; i < kv.size(); i += 2)
      setEntry(dict, kv[i], kv[i + 1]);
  }
  static bool sameKey(const PickleValue *a, const PickleValue *b) {
    if (a == b)
      return true;
    if (a->kind != b->kind)
      return false;
    if (a->kind == Kind::Str || a->kind == Kind::Bytes)
      return a->text == b->text;
    if (a->kind == Kind::Int || a->kind == Kind::Bool)
      return a->integer == b->integer;
    return false;
  }
  /// Sets `key` in a Dict (or an Object's attributes), replacing an equal
  /// key as Python does. Dicts from checkpoints are small (a module's
  /// children), so the scan is cheap.
  void setEntry(PickleValue *dict, PickleValue *key, PickleValue *value) {
    charge(1);
    // Above 64 entries (a module's own dict has ~20) keys are only
    // appended, so a hostile dict cannot make this quadratic; `get` then
    // finds the last one, as Python keeps the last value.
    if (dict->entries.size() < 64)
      for (auto &entry : dict->entries)
        if (sameKey(entry.first, key)) {
          entry.second = value;
          return;
        }
    dict->entries.emplace_back(key, value);
  }

  // ---- calls (REDUCE, NEWOBJ, BUILD, persistent ids) ---------------------
  const PickleValue *arg(const PickleValue *args, size_t i, Kind kind,
                         const char *what) {
    if (args->kind != Kind::Tuple || i >= args->items.size() ||
        args->items[i]->kind != kind)
      fail(std::string(what) + ": argument " + std::to_string(i) +
           " is missing or of the wrong type");
    return args->items[i];
  }
  static std::vector<int64_t> intTuple(const PickleValue *v, bool &ok) {
    std::vector<int64_t> out;
    ok = v->kind == Kind::Tuple || v->kind == Kind::List;
    if (ok)
      for (const PickleValue *item : v->items) {
        if (item->kind != Kind::Int) {
          ok = false;
          break;
        }
        out.push_back(item->integer);
      }
    return out;
  }

  /// The value of calling `callable(*args)`, for the callables we know;
  /// everything else becomes an inert Object that records the call.
  PickleValue *reduce(PickleValue *callable, PickleValue *args) {
    if (args->kind != Kind::Tuple)
      fail("REDUCE arguments are not a tuple");
    if (callable->kind != Kind::Global) {
      // Calling an inert object: record it, give it no meaning.
      PickleValue *o = make(Kind::Object);
      o->module = callable->module;
      o->name = callable->name;
      charge(args->items.size());
      o->items = args->items;
      return o;
    }
    const std::string &m = callable->module, &n = callable->name;
    if ((m == "collections" && n == "OrderedDict") ||
        ((m == "builtins" || m == "__builtin__") && n == "dict")) {
      PickleValue *d = make(Kind::Dict);
      if (!args->items.empty()) {
        const PickleValue *pairs = args->items[0];
        if (pairs->kind != Kind::List && pairs->kind != Kind::Tuple)
          fail(n + " of a value that is not a list of pairs");
        for (const PickleValue *pair : pairs->items) {
          if (pair->kind != Kind::Tuple && pair->kind != Kind::List)
            fail(n + " of a value that is not a list of pairs");
          if (pair->items.size() != 2)
            fail(n + " of a value that is not a list of pairs");
          setEntry(d, pair->items[0], pair->items[1]);
        }
      }
      return d;
    }
    if ((m == "builtins" || m == "__builtin__") &&
        (n == "set" || n == "frozenset" || n == "list" || n == "tuple")) {
      PickleValue *s = make(n == "list"    ? Kind::List
                            : n == "tuple" ? Kind::Tuple
                                           : Kind::Set);
      if (!args->items.empty()) {
        const PickleValue *from = args->items[0];
        if (from->kind != Kind::List && from->kind != Kind::Tuple &&
            from->kind != Kind::Set)
          fail(n + "() of a value that is not a sequence");
        charge(from->items.size());
        s->items = from->items;
      }
      return s;
    }
    if (m == "torch" && n == "Size") {
      bool ok = false;
      if (args->items.size() == 1)
        intTuple(args->items[0], ok);
      if (!ok)
        fail("torch.Size of a value that is not a tuple of integers");
      charge(args->items[0]->items.size());
      return makeTuple(args->items[0]->items);
    }
    if (m == "torch._utils" &&
        (n == "_rebuild_tensor_v2" || n == "_rebuild_tensor")) {
      const PickleValue *storage = arg(args, 0, Kind::Storage, n.c_str());
      const PickleValue *offset = arg(args, 1, Kind::Int, n.c_str());
      if (args->items.size() < 4)
        fail(n + " with fewer than 4 arguments");
      bool sizesOk = false, stridesOk = false;
      if (args->items[2]->items.size() > 64)
        fail(n + ": a tensor of more than 64 dimensions");
      charge(2 * args->items[2]->items.size());
      PickleValue *t = make(Kind::Tensor);
      t->sizes = intTuple(args->items[2], sizesOk);
      t->strides = intTuple(args->items[3], stridesOk);
      if (!sizesOk || !stridesOk || t->sizes.size() != t->strides.size())
        fail(n + ": size and stride are not integer tuples of one length");
      t->storage = const_cast<PickleValue *>(storage);
      t->storageOffset = offset->integer;
      return t;
    }
    if (m == "torch._utils" && (n == "_rebuild_parameter" ||
                                n == "_rebuild_parameter_with_state")) {
      return const_cast<PickleValue *>(arg(args, 0, Kind::Tensor, n.c_str()));
    }
    if (m == "_codecs" && n == "encode") {
      const PickleValue *text = arg(args, 0, Kind::Str, "_codecs.encode");
      PickleValue *b = make(Kind::Bytes);
      // latin-1: every code point below 256 is one byte (the text is UTF-8).
      const std::string &s = text->text;
      for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<uint8_t>(s[i]);
        if (c < 0x80) {
          b->text.push_back(static_cast<char>(c));
        } else if ((c & 0xE0) == 0xC0 && c <= 0xC3 && i + 1 < s.size()) {
          b->text.push_back(static_cast<char>(((c & 0x1F) << 6) |
                                              (s[i + 1] & 0x3F)));
          ++i;
        } else {
          fail("_codecs.encode of text outside latin-1");
        }
      }
      return b;
    }
    if ((m == "dill._dill" || m == "dill") && n == "_load_type") {
      const PickleValue *type = arg(args, 0, Kind::Str, "dill _load_type");
      return makeGlobal("builtins", type->text);
    }
    PickleValue *o = make(Kind::Object);
    o->module = m;
    o->name = n;
    charge(args->items.size());
    o->items = args->items;
    return o;
  }

  /// `cls.__new__(cls, *args)`: containers we know, else an inert Object.
  PickleValue *newObject(PickleValue *cls, PickleValue *args) {
    if (cls->kind == Kind::Global &&
        ((cls->module == "collections" && cls->name == "OrderedDict") ||
         cls->name == "set" || cls->name == "frozenset"))
      return reduce(cls, make(Kind::Tuple));
    PickleValue *o = make(Kind::Object);
    o->module = cls->module;
    o->name = cls->name;
    if (args->kind == Kind::Tuple) {
      charge(args->items.size());
      o->items = args->items;
    }
    return o;
  }

  /// `obj.__setstate__(state)` or `obj.__dict__.update(state)`: an Object
  /// takes the state dict (and the slot-state dict of a 2-tuple) as its
  /// attributes; other values ignore their state.
  void build(PickleValue *obj, PickleValue *state) {
    if (obj->kind != Kind::Object)
      return;
    auto merge = [&](const PickleValue *dict) {
      if (dict->kind == Kind::Dict)
        for (const auto &[k, v] : dict->entries)
          setEntry(obj, k, v);
    };
    if (state->kind == Kind::Tuple && state->items.size() == 2) {
      merge(state->items[0]);
      merge(state->items[1]);
    } else {
      merge(state);
    }
  }

  /// torch's persistent id `('storage', <Storage class>, key, location,
  /// numel)`.
  PickleValue *persistent(PickleValue *pid) {
    if (pid->kind != Kind::Tuple || pid->items.size() < 5 ||
        pid->items[0]->kind != Kind::Str || pid->items[0]->text != "storage")
      fail("persistent id is not a torch storage record");
    const PickleValue *type = pid->items[1];
    const PickleValue *key = pid->items[2];
    const PickleValue *numel = pid->items[4];
    if (type->kind != Kind::Global || key->kind != Kind::Str ||
        numel->kind != Kind::Int || numel->integer < 0)
      fail("malformed torch storage record");
    PickleValue *s = make(Kind::Storage);
    s->name = type->name;
    s->module = type->module;
    s->text = key->text;
    s->integer = numel->integer;
    return s;
  }

  // ---- one opcode ---------------------------------------------------------
  void step(uint8_t op) {
    switch (op) {
    case 0x80: { // PROTO
      uint8_t proto = byte();
      if (proto > 5)
        fail("pickle protocol " + std::to_string(proto) + " is newer than 5");
      return;
    }
    case 0x95: // FRAME: a length hint only
      take(8);
      return;
    case '(': // MARK
      if (stack.size() + marks.size() >= limits.maxStack)
        fail("pickle stack deeper than " + std::to_string(limits.maxStack));
      marks.push_back(stack.size());
      return;
    case '0': // POP
      pop();
      return;
    case '1': // POP_MARK
      popMark();
      return;
    case '2': // DUP
      push(top());
      return;
    case 'N':
      push(make(Kind::None));
      return;
    case 0x88: // NEWTRUE
    case 0x89: { // NEWFALSE
      PickleValue *b = make(Kind::Bool);
      b->integer = op == 0x88;
      push(b);
      return;
    }
    case 'J': // BININT
      push(makeInt(static_cast<int32_t>(unsignedLE(4))));
      return;
    case 'K': // BININT1
      push(makeInt(static_cast<int64_t>(unsignedLE(1))));
      return;
    case 'M': // BININT2
      push(makeInt(static_cast<int64_t>(unsignedLE(2))));
      return;
    case 0x8a: // LONG1
    case 0x8b: { // LONG4
      uint64_t n = op == 0x8a ? unsignedLE(1) : unsignedLE(4);
      if (n > 8)
        fail("integer of " + std::to_string(n) + " bytes (more than 64 bits)");
      const char *p = take(n);
      uint64_t v = 0;
      for (uint64_t i = n; i-- > 0;)
        v = (v << 8) | static_cast<uint8_t>(p[i]);
      if (n > 0 && n < 8 && (static_cast<uint8_t>(p[n - 1]) & 0x80))
        v |= ~uint64_t(0) << (8 * n); // sign-extend
      push(makeInt(static_cast<int64_t>(v)));
      return;
    }
    case 'I': { // INT (text; protocol 0 bools are I00 / I01)
      std::string s = line();
      PickleValue *v;
      if (s == "00" || s == "01") {
        v = make(Kind::Bool);
        v->integer = s == "01";
      } else {
        char *end = nullptr;
        long long x = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || *end)
          fail("malformed INT '" + s + "'");
        v = makeInt(x);
      }
      push(v);
      return;
    }
    case 'G': { // BINFLOAT, big-endian
      const char *p = take(8);
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i)
        bits = (bits << 8) | static_cast<uint8_t>(p[i]);
      PickleValue *f = make(Kind::Float);
      std::memcpy(&f->real, &bits, 8);
      push(f);
      return;
    }
    case 'X': // BINUNICODE
      push(makeStr(Kind::Str, unsignedLE(4)));
      return;
    case 0x8c: // SHORT_BINUNICODE
      push(makeStr(Kind::Str, unsignedLE(1)));
      return;
    case 0x8d: // BINUNICODE8
      push(makeStr(Kind::Str, unsignedLE(8)));
      return;
    case 'T': // BINSTRING (Python 2 str)
      push(makeStr(Kind::Str, unsignedLE(4)));
      return;
    case 'U': // SHORT_BINSTRING
      push(makeStr(Kind::Str, unsignedLE(1)));
      return;
    case 'B': // BINBYTES
      push(makeStr(Kind::Bytes, unsignedLE(4)));
      return;
    case 'C': // SHORT_BINBYTES
      push(makeStr(Kind::Bytes, unsignedLE(1)));
      return;
    case 0x8e: // BINBYTES8
    case 0x96: // BYTEARRAY8
      push(makeStr(Kind::Bytes, unsignedLE(8)));
      return;
    case ')':
      push(make(Kind::Tuple));
      return;
    case 't':
      push(makeTuple(popMark()));
      return;
    case 0x85: // TUPLE1
    case 0x86: // TUPLE2
    case 0x87: { // TUPLE3
      size_t n = op - 0x84;
      std::vector<PickleValue *> items(n);
      for (size_t i = n; i-- > 0;)
        items[i] = pop();
      push(makeTuple(std::move(items)));
      return;
    }
    case ']':
      push(make(Kind::List));
      return;
    case 'l': { // LIST
      PickleValue *l = make(Kind::List);
      l->items = popMark();
      push(l);
      return;
    }
    case 'a': { // APPEND
      PickleValue *v = pop();
      appendTo(top(), {v});
      return;
    }
    case 'e': { // APPENDS
      std::vector<PickleValue *> items = popMark();
      appendTo(top(), items);
      return;
    }
    case '}':
      push(make(Kind::Dict));
      return;
    case 'd': { // DICT
      std::vector<PickleValue *> kv = popMark();
      PickleValue *d = make(Kind::Dict);
      setItems(d, kv);
      push(d);
      return;
    }
    case 's': { // SETITEM
      PickleValue *v = pop();
      PickleValue *k = pop();
      setItems(top(), {k, v});
      return;
    }
    case 'u': { // SETITEMS
      std::vector<PickleValue *> kv = popMark();
      setItems(top(), kv);
      return;
    }
    case 0x8f: // EMPTY_SET
      push(make(Kind::Set));
      return;
    case 0x90: { // ADDITEMS
      std::vector<PickleValue *> items = popMark();
      PickleValue *s = top();
      if (s->kind != Kind::Set)
        fail("ADDITEMS to a value that is not a set");
      charge(items.size());
      s->items.insert(s->items.end(), items.begin(), items.end());
      return;
    }
    case 0x91: { // FROZENSET
      PickleValue *s = make(Kind::Set);
      s->items = popMark();
      push(s);
      return;
    }
    case 'c': { // GLOBAL
      std::string module = line();
      std::string name = line();
      push(makeGlobal(std::move(module), std::move(name)));
      return;
    }
    case 0x93: { // STACK_GLOBAL
      PickleValue *name = pop();
      PickleValue *module = pop();
      if (module->kind != Kind::Str || name->kind != Kind::Str)
        fail("STACK_GLOBAL of values that are not strings");
      push(makeGlobal(module->text, name->text));
      return;
    }
    case 'R': { // REDUCE
      PickleValue *args = pop();
      PickleValue *callable = pop();
      push(reduce(callable, args));
      return;
    }
    case 0x81: { // NEWOBJ
      PickleValue *args = pop();
      PickleValue *cls = pop();
      push(newObject(cls, args));
      return;
    }
    case 0x92: { // NEWOBJ_EX
      pop(); // kwargs
      PickleValue *args = pop();
      PickleValue *cls = pop();
      push(newObject(cls, args));
      return;
    }
    case 'b': { // BUILD
      PickleValue *state = pop();
      build(top(), state);
      return;
    }
    case 'Q': // BINPERSID
      push(persistent(pop()));
      return;
    case 'q': // BINPUT
      memoPut(unsignedLE(1));
      return;
    case 'r': // LONG_BINPUT
      memoPut(unsignedLE(4));
      return;
    case 0x94: // MEMOIZE
      memoPut(memo.size());
      return;
    case 'p': { // PUT (text)
      std::string s = line();
      char *end = nullptr;
      unsigned long long i = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || *end)
        fail("malformed PUT index '" + s + "'");
      memoPut(i);
      return;
    }
    case 'h': // BINGET
      push(memoGet(unsignedLE(1)));
      return;
    case 'j': // LONG_BINGET
      push(memoGet(unsignedLE(4)));
      return;
    case 'g': { // GET (text)
      std::string s = line();
      char *end = nullptr;
      unsigned long long i = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || *end)
        fail("malformed GET index '" + s + "'");
      push(memoGet(i));
      return;
    }
    default: {
      static const char hex[] = "0123456789abcdef";
      std::string code = {'0', 'x', hex[op >> 4], hex[op & 15]};
      fail("unsupported pickle opcode " + code +
           (op == 'i' || op == 'o'
                ? " (INST/OBJ call classes; torch.save never writes them)"
            : op == 0x82 || op == 0x83 || op == 0x84
                ? " (EXT: extension registry lookups are not supported)"
                : ""));
    }
    }
  }

  std::string_view bytes;
  const std::string &path, &member;
  const PickleLimits &limits;
  uint64_t pos = 0, opStart = 0, itemsCharged = 0;
  std::vector<PickleValue *> stack;
  std::vector<size_t> marks;
  std::unordered_map<uint64_t, PickleValue *> memo;
  Pickle result;
};

} // namespace

Pickle irmb::weights::unpickle(std::string_view bytes, const std::string &path,
                               const std::string &member,
                               const PickleLimits &limits) {
  if (bytes.empty())
    throw CheckpointError(path, member + " is empty");
  return Machine(bytes, path, member, limits).run();
}
