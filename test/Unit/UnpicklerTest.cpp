//===- UnpicklerTest.cpp - the restricted unpickler on crafted pickles ----===//
//
// Each test writes a pickle opcode by opcode and checks the value graph
// irmb::weights::unpickle builds: every accepted opcode, memo sharing,
// nested containers, the tensor-rebuild globals with offsets and strides,
// inert placeholders for unknown classes, and the errors for hostile or
// broken input (code-running globals, truncation, stack underflow, bad memo
// indices, limits).
//
//===----------------------------------------------------------------------===//
#include "weights/SafeTensors.h"
#include "weights/Unpickler.h"

#include <gtest/gtest.h>
#include <string>

using namespace irmb::weights;
using Kind = PickleValue::Kind;

namespace {

/// Builds a pickle byte string.
class Bytes {
public:
  Bytes &op(char c) {
    s += c;
    return *this;
  }
  Bytes &u8(unsigned v) {
    s += static_cast<char>(v);
    return *this;
  }
  Bytes &le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return *this;
  }
  Bytes &raw(const std::string &t) {
    s += t;
    return *this;
  }
  /// BINUNICODE `t`.
  Bytes &str(const std::string &t) { return op('X').le(t.size(), 4).raw(t); }
  /// SHORT_BINUNICODE `t`.
  Bytes &shortStr(const std::string &t) {
    return op('\x8c').u8(t.size()).raw(t);
  }
  /// GLOBAL module\nname\n.
  Bytes &global(const std::string &m, const std::string &n) {
    return op('c').raw(m + "\n" + n + "\n");
  }
  Bytes &binint1(unsigned v) { return op('K').u8(v); }
  std::string done() { return s + "."; }
  std::string s = "\x80\x02";
};

Pickle load(const std::string &bytes, const PickleLimits &limits = {}) {
  return unpickle(bytes, "test.pt", "data.pkl", limits);
}

std::string errorOf(const std::string &bytes, const PickleLimits &limits = {}) {
  try {
    load(bytes, limits);
  } catch (const CheckpointError &e) {
    return e.what();
  }
  return "";
}

TEST(Unpickler, Scalars) {
  Bytes b;
  b.op('(')
      .op('N')
      .op('\x88')
      .op('\x89')
      .op('J')
      .le(static_cast<uint32_t>(-5), 4)
      .binint1(200)
      .op('M')
      .le(60000, 2)
      .op('\x8a')
      .u8(2)
      .le(0xff85, 2) // LONG1 -123
      .op('\x8b')
      .le(8, 4)
      .le(uint64_t(1) << 40, 8) // LONG4
      .op('I')
      .raw("01\n") // protocol 0 True
      .op('I')
      .raw("-42\n")
      .op('G')
      .raw(std::string("\x3f\xf8\x00\x00\x00\x00\x00\x00", 8)) // 1.5
      .str("héllo")
      .shortStr("s")
      .op('\x8d')
      .le(2, 8)
      .raw("u8")
      .op('T')
      .le(2, 4)
      .raw("py")
      .op('U')
      .u8(1)
      .raw("q")
      .op('B')
      .le(3, 4)
      .raw(std::string("\0\1\2", 3))
      .op('C')
      .u8(1)
      .raw("z")
      .op('\x8e')
      .le(1, 8)
      .raw("y")
      .op('\x96')
      .le(1, 8)
      .raw("a")
      .op('l'); // LIST from the mark
  Pickle p = load(b.done());
  ASSERT_EQ(p.root->kind, Kind::List);
  const auto &v = p.root->items;
  ASSERT_EQ(v.size(), 20u);
  EXPECT_EQ(v[0]->kind, Kind::None);
  EXPECT_EQ(v[1]->kind, Kind::Bool);
  EXPECT_EQ(v[1]->integer, 1);
  EXPECT_EQ(v[2]->integer, 0);
  EXPECT_EQ(v[3]->integer, -5);
  EXPECT_EQ(v[4]->integer, 200);
  EXPECT_EQ(v[5]->integer, 60000);
  EXPECT_EQ(v[6]->integer, -123);
  EXPECT_EQ(v[7]->integer, int64_t(1) << 40);
  EXPECT_EQ(v[8]->kind, Kind::Bool);
  EXPECT_EQ(v[9]->integer, -42);
  EXPECT_EQ(v[10]->real, 1.5);
  EXPECT_EQ(v[11]->text, "héllo");
  EXPECT_EQ(v[12]->text, "s");
  EXPECT_EQ(v[13]->text, "u8");
  EXPECT_EQ(v[14]->kind, Kind::Str);
  EXPECT_EQ(v[15]->text, "q");
  EXPECT_EQ(v[16]->kind, Kind::Bytes);
  EXPECT_EQ(v[16]->text, std::string("\0\1\2", 3));
  EXPECT_EQ(v[17]->text, "z");
  EXPECT_EQ(v[18]->text, "y");
  EXPECT_EQ(v[19]->text, "a");
}

TEST(Unpickler, ContainersAndStackOps) {
  Bytes b;
  b.op('}') // {'t': (1, 2, 3), 'l': [4, 5], 's': {6}, 'f': frozenset, ...}
      .op('(')
      .shortStr("t")
      .binint1(1)
      .binint1(2)
      .binint1(3)
      .op('\x87') // TUPLE3
      .shortStr("l")
      .op(']')
      .binint1(4)
      .op('a')
      .op('(')
      .binint1(5)
      .op('e')
      .shortStr("s")
      .op('\x8f')
      .op('(')
      .binint1(6)
      .op('\x90') // ADDITEMS
      .shortStr("f")
      .op('(')
      .binint1(7)
      .op('\x91') // FROZENSET
      .shortStr("d")
      .op('(')
      .shortStr("k")
      .binint1(8)
      .op('d') // DICT
      .shortStr("e")
      .op(')') // EMPTY_TUPLE
      .shortStr("1")
      .binint1(9)
      .op('\x85') // TUPLE1
      .shortStr("2")
      .binint1(1)
      .binint1(2)
      .op('\x86') // TUPLE2
      .op('u')    // SETITEMS
      .shortStr("x")
      .binint1(10)
      .op('s')    // SETITEM
      .binint1(99)
      .op('0')    // POP
      .op('(')
      .binint1(98)
      .op('1') // POP_MARK
      .shortStr("dup")
      .binint1(11)
      .op('2') // DUP
      .op('\x86')
      .op('s')
      .op('(')
      .binint1(1)
      .binint1(2)
      .op('t'); // TUPLE
  b.op('\x86'); // (dict, (1, 2))
  Pickle p = load(b.done());
  ASSERT_EQ(p.root->kind, Kind::Tuple);
  const PickleValue *d = p.root->items[0];
  ASSERT_EQ(d->kind, Kind::Dict);
  EXPECT_EQ(d->get("t")->items.size(), 3u);
  EXPECT_EQ(d->get("l")->items[1]->integer, 5);
  EXPECT_EQ(d->get("s")->kind, Kind::Set);
  EXPECT_EQ(d->get("s")->items[0]->integer, 6);
  EXPECT_EQ(d->get("f")->items[0]->integer, 7);
  EXPECT_EQ(d->get("d")->get("k")->integer, 8);
  EXPECT_TRUE(d->get("e")->items.empty());
  EXPECT_EQ(d->get("1")->items.size(), 1u);
  EXPECT_EQ(d->get("2")->items[1]->integer, 2);
  EXPECT_EQ(d->get("x")->integer, 10);
  EXPECT_EQ(d->get("dup")->items[0], d->get("dup")->items[1]);
  EXPECT_EQ(p.root->items[1]->items.size(), 2u);
}

TEST(Unpickler, MemoIsShared) {
  // l = [] stored with BINPUT 0; d = {'a': BINGET 0, 'b': LONG_BINGET 0,
  // 'c': GET 0}; then 7 is appended to memo[0] after d holds it: every
  // reference sees it, as in Python. MEMOIZE, PUT and LONG_BINPUT store too.
  Bytes b;
  b.op(']').op('q').u8(0).op('0');
  b.op('}').op('(').shortStr("a").op('h').u8(0).shortStr("b").op('j').le(0, 4);
  b.shortStr("c").op('g').raw("0\n").op('u');
  b.op('h').u8(0).binint1(7).op('a').op('0');
  b.shortStr("m").op('\x94').op('0');   // MEMOIZE: slot 1 (one entry so far)
  b.shortStr("p").op('p').raw("9\n").op('0');
  b.shortStr("r").op('r').le(70000, 4).op('0');
  b.shortStr("list").op('(').op('h').u8(1).op('h').u8(9);
  b.op('j').le(70000, 4).op('l').op('s'); // d['list'] = ['m', 'p', 'r']
  Pickle p = load(b.done());
  ASSERT_EQ(p.root->kind, Kind::Dict);
  const PickleValue *a = p.root->get("a");
  EXPECT_EQ(a, p.root->get("b"));
  EXPECT_EQ(a, p.root->get("c"));
  ASSERT_EQ(a->items.size(), 1u);
  EXPECT_EQ(a->items[0]->integer, 7);
  const PickleValue *stored = p.root->get("list");
  ASSERT_EQ(stored->items.size(), 3u);
  EXPECT_EQ(stored->items[0]->text, "m");
  EXPECT_EQ(stored->items[1]->text, "p");
  EXPECT_EQ(stored->items[2]->text, "r");
}

TEST(Unpickler, TensorRebuildWithOffsetAndStride) {
  // _rebuild_parameter(_rebuild_tensor_v2(('storage', HalfStorage, '7',
  // 'cpu', 9), 3, (2, 3), (1, 2), False, OrderedDict()), True,
  // OrderedDict()), as torch.save writes a Parameter.
  Bytes b;
  b.global("torch._utils", "_rebuild_parameter").op('(');
  b.global("torch._utils", "_rebuild_tensor_v2").op('(');
  b.op('(').shortStr("storage").global("torch", "HalfStorage").shortStr("7");
  b.shortStr("cpu").binint1(9).op('t').op('Q'); // BINPERSID
  b.binint1(3);                                 // storage offset
  b.binint1(2).binint1(3).op('\x86');           // size
  b.binint1(1).binint1(2).op('\x86');           // stride
  b.op('\x89');                                 // requires_grad
  b.global("collections", "OrderedDict").op(')').op('R');
  b.op('t').op('R'); // the tensor
  b.op('\x88').global("collections", "OrderedDict").op(')').op('R');
  b.op('t').op('R'); // the parameter
  Pickle p = load(b.done());
  const PickleValue *t = p.root;
  ASSERT_EQ(t->kind, Kind::Tensor);
  EXPECT_EQ(t->storageOffset, 3);
  EXPECT_EQ(t->sizes, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t->strides, (std::vector<int64_t>{1, 2}));
  ASSERT_EQ(t->storage->kind, Kind::Storage);
  EXPECT_EQ(t->storage->name, "HalfStorage");
  EXPECT_EQ(t->storage->text, "7");
  EXPECT_EQ(t->storage->integer, 9);
}

TEST(Unpickler, UnknownClassesAreInert) {
  // ultralytics...Conv() with BUILD state {'training': False}; a protocol 4
  // STACK_GLOBAL; NEWOBJ_EX; and an unknown callable in REDUCE.
  Bytes b;
  b.op('(')
      .global("ultralytics.nn.modules.conv", "Conv")
      .op(')')
      .op('\x81')
      .op('}')
      .shortStr("training")
      .op('\x89')
      .op('s')
      .op('b')
      .shortStr("my.fork")
      .shortStr("Block")
      .op('\x93')
      .op(')')
      .op('}')
      .op('\x92')
      .global("pathlib", "PosixPath")
      .shortStr("/x")
      .op('\x85')
      .op('R')
      .global("dill._dill", "_load_type")
      .shortStr("set")
      .op('\x85')
      .op('R')
      .op(']')
      .op('\x85')
      .op('R') // set([])
      .global("_codecs", "encode")
      .shortStr("\xc3\xbf")
      .shortStr("latin1")
      .op('\x86')
      .op('R')
      .op('l');
  Pickle p = load(b.done());
  const auto &v = p.root->items;
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0]->kind, Kind::Object);
  EXPECT_EQ(v[0]->qualifiedName(), "ultralytics.nn.modules.conv.Conv");
  EXPECT_EQ(v[0]->get("training")->integer, 0);
  EXPECT_EQ(v[1]->qualifiedName(), "my.fork.Block");
  EXPECT_EQ(v[2]->kind, Kind::Object);
  EXPECT_EQ(v[2]->items[0]->text, "/x");
  EXPECT_EQ(v[3]->kind, Kind::Set);
  EXPECT_EQ(v[4]->kind, Kind::Bytes);
  EXPECT_EQ(v[4]->text, "\xff");
}

TEST(Unpickler, CodeRunningGlobalsAreRefused) {
  for (auto [m, n] : {std::pair{"posix", "system"},
                      {"os", "system"},
                      {"subprocess", "Popen"},
                      {"builtins", "eval"},
                      {"__builtin__", "exec"},
                      {"builtins", "getattr"},
                      {"dill._dill", "_create_function"},
                      {"torch", "load"}}) {
    Bytes b;
    b.global(m, n).shortStr("echo pwned").op('\x85').op('R');
    std::string e = errorOf(b.done());
    EXPECT_NE(e.find("refusing the global '" + std::string(m) + "." + n + "'"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("test.pt: data.pkl offset 2"), std::string::npos) << e;
  }
  // STACK_GLOBAL spelling is refused too.
  Bytes b;
  b.shortStr("os").shortStr("system").op('\x93');
  EXPECT_NE(errorOf(b.done()).find("refusing the global 'os.system'"),
            std::string::npos);
  EXPECT_FALSE(isCodeRunningGlobal("collections", "OrderedDict"));
  EXPECT_FALSE(isCodeRunningGlobal("builtins", "set"));
  EXPECT_FALSE(isCodeRunningGlobal("ultralytics.nn.tasks", "DetectionModel"));
}

TEST(Unpickler, BrokenPicklesGiveOneError) {
  auto has = [](const std::string &bytes, const std::string &what) {
    std::string e = errorOf(bytes);
    EXPECT_NE(e.find(what), std::string::npos) << "got: " << e;
  };
  has("", "data.pkl is empty");
  has("\x80\x02X\xff\xff\xff\x7f", "truncated pickle");
  has("\x80\x02", "truncated pickle");
  has("\x80\x02" "0.", "stack underflow");
  has("\x80\x02" "h\x05.", "memo index 5 was never stored");
  has("\x80\x02" "t.", "no MARK");
  has("\x80\x02" "N" "a.", "stack underflow");
  has("\x80\x02" "NN" "a.", "APPEND to a value that is not a list");
  has("\x80\x02" "NN" "(" "s.", "stack underflow");
  has("\x80\x02" "}" "(N" "u.", "odd number");
  has("\x80\x02" "NN.", "values left on the stack");
  has("\x80\x09N.", "protocol 9");
  has("\x80\x02" "\x8a\x09" "123456789.", "more than 64 bits");
  has("\x80\x02" "i", "INST/OBJ");
  has("\x80\x02" "\x82\x01", "EXT");
  has("\x80\x02" "\xfe", "unsupported pickle opcode 0xfe");
  has("\x80\x02" "N" "r\xff\xff\xff\xff.", "memo index 4294967295 beyond");
  has("\x80\x02" "NQ.", "persistent id is not a torch storage");
  PickleLimits small;
  small.maxValues = 10;
  std::string many = "\x80\x02(" + std::string(20, 'N') + "l.";
  EXPECT_NE(errorOf(many, small).find("more than 10 objects"),
            std::string::npos);
  PickleLimits fewItems;
  fewItems.maxItems = 10; // APPENDS of 20 memo references
  std::string appends("\x80\x02]Nq\x00" "0(", 8); // [], memo[0] = None, MARK
  for (int i = 0; i < 20; ++i)
    appends += std::string("h\0", 2); // BINGET 0
  appends += "e.";
  EXPECT_NE(errorOf(appends, fewItems).find("more than 10 container elements"),
            std::string::npos)
      << errorOf(appends, fewItems);
  small.maxStack = 8;
  small.maxValues = 1000;
  EXPECT_NE(errorOf("\x80\x02" + std::string(20, '(') + ".", small)
                .find("stack deeper than 8"),
            std::string::npos);
}

} // namespace
