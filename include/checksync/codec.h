// checksync/codec.h - how library-typed fields are checkpointed.
//
// The CheckSync plugin instantiates checksync::codec::entry<T> for the type T
// of every library-typed field of a persistent record (std::string,
// containers, optionals, smart pointers, ...), and transient_entry<T> for
// transient fields that need construction. The runtime calls the functions in
// the Entry to encode a value (its logical content: characters, elements,
// entries - never its bytes), to decode it into fresh storage, and to find the
// refs to persistent objects it holds.
//
// Encoding (msgpack, see docs/format.md): arithmetic as numbers, pointers as
// refs (msgpack ext: object id), a persistent record by value as the array of
// its fields; the standard library types as codec_std.h says.
//
// Users may specialise checksync::codec::codec<T> for their own library-like
// types; the specialisation must provide encode/decode/visit/construct/destroy
// with the signatures of the primary template.
#ifndef CHECKSYNC_CODEC_H
#define CHECKSYNC_CODEC_H

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace checksync::codec {

class Writer;     // runtime: a msgpack writer that turns pointers into object ids
class Value;      // runtime: one decoded msgpack value
class RefVisitor; // runtime: the marker

// ---- Implemented by the runtime ----------------------------------------------
void put_nil(Writer &w);
void put_bool(Writer &w, bool v);
void put_int(Writer &w, std::int64_t v);
void put_uint(Writer &w, std::uint64_t v);
void put_float(Writer &w, float v);
void put_double(Writer &w, double v);
void put_bytes(Writer &w, const void *p, std::size_t n);
void put_str(Writer &w, const char *p, std::size_t n);
void put_array(Writer &w, std::size_t n);
void put_map(Writer &w, std::size_t n);
// p: null, or anywhere inside (or one past) a persistent object made with new.
void put_ref(Writer &w, const void *p);
// A persistent record by value; key = typeid(T).name().
void put_record(Writer &w, const void *obj, const char *key);

bool is_nil(const Value &v);
bool is_map(const Value &v);
bool get_bool(const Value &v);
std::int64_t get_int(const Value &v);
std::uint64_t get_uint(const Value &v);
double get_double(const Value &v);
float get_float(const Value &v); // exact bits, signalling NaNs included
void get_bytes(const Value &v, void *dst, std::size_t n);
std::string_view get_str(const Value &v);
std::size_t get_array(const Value &v); // element count; fails if not an array
const Value &at(const Value &v, std::size_t i);
std::size_t get_map(const Value &v); // entry count; fails if not a map
const Value &key_at(const Value &v, std::size_t i);
const Value &value_at(const Value &v, std::size_t i);
void *get_ref(const Value &v); // the restored address (null for nil)
// Decodes a persistent record into raw storage (vtable pointers, transient
// fields and library fields constructed).
void get_record(const Value &v, void *dst, const char *key);
// Shared ownership on resume: every shared_ptr to one object shares one owner.
std::shared_ptr<void> *shared_owner(const void *obj);
[[noreturn]] void fail(const char *why);

// Nodes of node-based containers (list, forward_list, map, set and their
// multi forms) whose iterators persistent state holds (docs/iterators.md).
// A node's id is its address while the program runs; a restore maps each id
// to the node rebuilt for it, and iterators are rewritten to those nodes once
// every object is decoded.
void put_node(Writer &w, const void *node); // ext 3 with the id; nil for null
// A container's end node (its first entry in node form): also tells the
// runtime the object being encoded holds a container in node form.
void put_end_node(Writer &w, const void *end);
bool is_node(const Value &v);
std::uint64_t get_node(const Value &v); // 0 for nil; fails on anything else
// Restore: `node` is the rebuilt node of `id`, of the node type `kind` (an
// iterator of another node type resolving to it resumes singular). With
// `after`, the node of `id` is after(node), found once decoding is over (the
// end node of a container that is still to be moved into place).
void note_node(std::uint64_t id, void *node, const void *kind, void *(*after)(void *) = nullptr);
// Restore: a container's end node whose final address is unknown (an empty
// container decoded into a temporary): iterators to it resume singular.
void note_lost_node(std::uint64_t id);
// Restore: a container in node form decoded into a temporary (nested in
// another library value) with the ids noted for it. If the temporary still
// holds its elements once handed over (an element type that is copied, not
// moved), those nodes die with it: handed_over() marks the ids lost.
void note_nested(const void *container, bool (*holds)(const void *), const std::uint64_t *ids,
                 std::size_t n);
void handed_over(const void *tmp, std::size_t size);
inline thread_local std::size_t nested_notes = 0; // note_nested entries not yet checked
// Restore: an iterator decoded with id `id` in its node slot.
void noted_iterator();

void visit_ref(RefVisitor &vis, const void *p);
void visit_record(RefVisitor &vis, const void *obj, const char *key);
// After a restore, rewrites the id an iterator (of node type `kind`) was
// decoded with (in *slot) into its rebuilt node; otherwise nothing.
void visit_node(RefVisitor &vis, const void *slot, const void *kind);

// Runtime: whether a persistent record (by its key) may hold a container in
// node form, in its fields or in records it holds.
bool record_may_hold_nodes(const char *key);

// ---- Which types may hold containers in node form (codec_std.h) --------------
// Asked once, after the static initialisers that register iterated node
// types have run: a type whose values may hold such a container has its
// values packed in the checkpoint's pause (rt/format/node_holders.h).
template <class T> struct nodes_of {
  static bool may() {
    if constexpr (std::is_class_v<T>)
      return record_may_hold_nodes(typeid(T).name()); // a persistent record
    else
      return false;
  }
};
template <class T> struct nodes_of<const T> : nodes_of<T> {};

// ---- Which types may hold refs (marking skips the others) ---------------------
template <class T> struct holds_refs : std::bool_constant<std::is_class_v<T>> {};
template <class T> struct holds_refs<T *> : std::true_type {};
template <class T> struct holds_refs<const T> : holds_refs<T> {};
template <class T> inline constexpr bool holds_refs_v = holds_refs<std::remove_cv_t<T>>::value;

// ---- Values -------------------------------------------------------------------
// encode/decode/visit overloads live in this namespace; calls are found by
// argument-dependent lookup on Writer/Value/RefVisitor, so nesting works in
// any order. decode_into constructs a T in raw storage.

template <class T>
  requires std::is_arithmetic_v<T> || std::is_enum_v<T>
void encode(Writer &w, const T &v) {
  if constexpr (std::is_same_v<T, bool>) {
    put_bool(w, v);
  } else if constexpr (std::is_enum_v<T>) {
    encode(w, static_cast<std::underlying_type_t<T>>(v));
  } else if constexpr (std::is_same_v<T, float>) {
    put_float(w, v);
  } else if constexpr (std::is_same_v<T, double>) {
    put_double(w, v);
  } else if constexpr (std::is_floating_point_v<T>) {
    put_bytes(w, &v, sizeof v);
  } else if constexpr (std::is_signed_v<T>) {
    put_int(w, static_cast<std::int64_t>(v));
  } else {
    put_uint(w, static_cast<std::uint64_t>(v));
  }
}

template <class T>
  requires std::is_arithmetic_v<T> || std::is_enum_v<T>
void decode_into(const Value &v, T *dst) {
  if constexpr (std::is_same_v<T, bool>) {
    ::new (dst) bool(get_bool(v));
  } else if constexpr (std::is_enum_v<T>) {
    std::underlying_type_t<T> u;
    decode_into(v, &u);
    ::new (dst) T(static_cast<T>(u));
  } else if constexpr (std::is_same_v<T, float>) {
    ::new (dst) float(get_float(v));
  } else if constexpr (std::is_same_v<T, double>) {
    ::new (dst) double(get_double(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    get_bytes(v, dst, sizeof(T));
  } else if constexpr (std::is_signed_v<T>) {
    std::int64_t x = get_int(v);
    if (x < std::int64_t(std::numeric_limits<T>::min()) ||
        x > std::int64_t(std::numeric_limits<T>::max()))
      fail("integer out of range for its field");
    ::new (dst) T(static_cast<T>(x));
  } else {
    std::uint64_t x = get_uint(v);
    if (x > std::uint64_t(std::numeric_limits<T>::max()))
      fail("integer out of range for its field");
    ::new (dst) T(static_cast<T>(x));
  }
}

template <class T>
  requires std::is_arithmetic_v<T> || std::is_enum_v<T>
void visit(RefVisitor &, const T &) {}

// Pointers to persistent types: refs.
template <class T> void encode(Writer &w, T *const &p) { put_ref(w, p); }
template <class T> void decode_into(const Value &v, T **dst) {
  ::new (dst) T *(static_cast<T *>(get_ref(v)));
}
template <class T> void visit(RefVisitor &vis, T *const &p) { visit_ref(vis, p); }

// A persistent record by value (the plugin only lets persistent records here).
template <class T>
  requires std::is_class_v<T>
void encode(Writer &w, const T &v) {
  put_record(w, &v, typeid(T).name());
}
template <class T>
  requires std::is_class_v<T>
void decode_into(const Value &v, T *dst) {
  get_record(v, dst, typeid(T).name());
}
template <class T>
  requires std::is_class_v<T>
void visit(RefVisitor &vis, const T &v) {
  visit_record(vis, &v, typeid(T).name());
}

// A const element (std::pair<const K, V>, std::array<const T, N>, ...) is
// constructed like its non-const type: the storage is raw, not yet const.
template <class T> void decode_into(const Value &v, const T *dst) {
  decode_into(v, const_cast<T *>(dst));
}

// Depth of decoding into temporaries: a container decoded at depth 0 is in
// its final place (an object's field, a root, an element of std::array).
inline thread_local int temporary_depth = 0;

// Helpers: decode one element into a temporary, hand it over, destroy it.
template <class T, class F> void with_decoded(const Value &v, F &&use) {
  alignas(T) unsigned char buf[sizeof(T)];
  T *tmp = reinterpret_cast<T *>(buf);
  struct Depth {
    Depth() { ++temporary_depth; }
    ~Depth() { --temporary_depth; }
  } depth;
  decode_into(v, tmp);
  use(std::move(*tmp));
  if (nested_notes)
    handed_over(tmp, sizeof(T));
  tmp->~T();
}
template <class Seq> void encode_seq(Writer &w, const Seq &s, std::size_t n) {
  put_array(w, n);
  for (const auto &e : s)
    encode(w, e);
}
template <class Seq> void visit_seq(RefVisitor &vis, const Seq &s) {
  if constexpr (holds_refs_v<typename Seq::value_type>)
    for (const auto &e : s)
      visit(vis, e);
}
} // namespace checksync::codec

// The standard library types (strings, containers, adapters, variant,
// smart pointers, chrono): before the entries, whose qualified calls must
// see every overload.
#include <checksync/codec_std.h>

namespace checksync::codec {

// ---- Entries ------------------------------------------------------------------
struct Entry {
  void (*encode)(const void *obj, Writer &w);
  void (*decode)(const Value &v, void *raw); // constructs a T in raw storage
  void (*visit)(const void *obj, RefVisitor &vis);
  void (*construct)(void *raw);              // value-initialises a T
  void (*destroy)(void *obj);
  bool holds_refs;
  bool (*may_hold_nodes)(); // null for transient entries
};

template <class T> struct codec {
  static void encode(const void *obj, Writer &w) {
    checksync::codec::encode(w, *static_cast<const T *>(obj));
  }
  static void decode(const Value &v, void *raw) { decode_into(v, static_cast<T *>(raw)); }
  static void visit(const void *obj, RefVisitor &vis) {
    checksync::codec::visit(vis, *static_cast<const T *>(obj));
  }
  static void construct(void *raw) {
    if constexpr (std::is_default_constructible_v<T>)
      ::new (raw) T();
    else
      ::new (raw) T{}; // std::array<const T, N>: an aggregate, value-initialised
  }
  static void destroy(void *obj) { static_cast<T *>(obj)->~T(); }
};

// Instantiated by the plugin for each library-typed field type.
template <class T>
inline constexpr Entry entry{&codec<T>::encode,    &codec<T>::decode,  &codec<T>::visit,
                             &codec<T>::construct, &codec<T>::destroy, holds_refs_v<T>,
                             &nodes_of<T>::may};

// Instantiated by the plugin for transient fields that need construction:
// only construct/destroy, so any default-constructible type works.
template <class T> struct transient_codec {
  static void construct(void *raw) { ::new (raw) T(); }
  static void destroy(void *obj) { static_cast<T *>(obj)->~T(); }
};
template <class T>
inline constexpr Entry transient_entry{
    nullptr, nullptr, nullptr, &transient_codec<T>::construct, &transient_codec<T>::destroy,
    false,   nullptr};

} // namespace checksync::codec

#endif
