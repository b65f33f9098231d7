// checksync/codec_std.h - the codecs of standard library types (part of
// checksync/codec.h, which includes it; not to be included alone).
//
// Encoding (docs/format.md): strings as str, sequences and sets as arrays in
// iteration order, maps as maps, adapters as their underlying container,
// optional as an array of 0 or 1 value, pair/tuple/array/complex as arrays,
// variant as [index, value], bitset as bytes, durations and time points as
// their count, smart pointers as refs; node-based containers that iterators
// point into in node form, and those iterators as node ids (iterators.md).
#ifndef CHECKSYNC_CODEC_STD_H
#define CHECKSYNC_CODEC_STD_H

#ifndef CHECKSYNC_CODEC_H
#error "include <checksync/codec.h> (or <checksync/checksync.h>), not codec_std.h"
#endif

#include <array>
#include <bitset>
#include <chrono>
#include <complex>
#include <cstring>
#include <deque>
#include <forward_list>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <stack>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace checksync::codec {

// ---- Which library types may hold refs ---------------------------------------
template <class C, class T, class A>
struct holds_refs<std::basic_string<C, T, A>> : std::false_type {};
template <class R, class P> struct holds_refs<std::chrono::duration<R, P>> : std::false_type {};
template <class C, class D>
struct holds_refs<std::chrono::time_point<C, D>> : std::false_type {};
template <class T, class A> struct holds_refs<std::vector<T, A>> : holds_refs<T> {};
template <class T, class A> struct holds_refs<std::deque<T, A>> : holds_refs<T> {};
template <class T, class A> struct holds_refs<std::list<T, A>> : holds_refs<T> {};
template <class T, class A> struct holds_refs<std::forward_list<T, A>> : holds_refs<T> {};
template <class T, std::size_t N> struct holds_refs<std::array<T, N>> : holds_refs<T> {};
template <class T> struct holds_refs<std::optional<T>> : holds_refs<T> {};
template <class K, class C, class A> struct holds_refs<std::set<K, C, A>> : holds_refs<K> {};
template <class K, class C, class A>
struct holds_refs<std::multiset<K, C, A>> : holds_refs<K> {};
template <class K, class H, class E, class A>
struct holds_refs<std::unordered_set<K, H, E, A>> : holds_refs<K> {};
template <class K, class H, class E, class A>
struct holds_refs<std::unordered_multiset<K, H, E, A>> : holds_refs<K> {};
template <class K, class V, class C, class A>
struct holds_refs<std::map<K, V, C, A>> : std::bool_constant<holds_refs<K>::value || holds_refs<V>::value> {};
template <class K, class V, class C, class A>
struct holds_refs<std::multimap<K, V, C, A>>
    : std::bool_constant<holds_refs<K>::value || holds_refs<V>::value> {};
template <class K, class V, class H, class E, class A>
struct holds_refs<std::unordered_map<K, V, H, E, A>>
    : std::bool_constant<holds_refs<K>::value || holds_refs<V>::value> {};
template <class K, class V, class H, class E, class A>
struct holds_refs<std::unordered_multimap<K, V, H, E, A>>
    : std::bool_constant<holds_refs<K>::value || holds_refs<V>::value> {};
template <class T, class C> struct holds_refs<std::queue<T, C>> : holds_refs<C> {};
template <class T, class C> struct holds_refs<std::stack<T, C>> : holds_refs<C> {};
template <class T, class C, class P>
struct holds_refs<std::priority_queue<T, C, P>> : holds_refs<C> {};
template <std::size_t N> struct holds_refs<std::bitset<N>> : std::false_type {};
template <class T> struct holds_refs<std::complex<T>> : std::false_type {};
template <> struct holds_refs<std::monostate> : std::false_type {};
template <class... Ts>
struct holds_refs<std::variant<Ts...>> : std::bool_constant<(holds_refs<Ts>::value || ...)> {};
template <class A, class B>
struct holds_refs<std::pair<A, B>> : std::bool_constant<holds_refs<A>::value || holds_refs<B>::value> {};
template <class... Ts>
struct holds_refs<std::tuple<Ts...>> : std::bool_constant<(holds_refs<Ts>::value || ...)> {};
// ---- Nodes of node-based containers (docs/iterators.md) ----------------------
// A container some persistent field holds iterators into is written in node
// form: a msgpack map whose first entry is its end node (nil value) and then
// one entry per element, node -> element (a map's element: [key, value]).
// Which containers: those of the node type an iterator's entry registered
// (before main, from the static initialiser below).
template <class Key> struct iterated { static inline bool on = false; };
template <class Key> struct register_iterated {
  static inline const bool done = (iterated<Key>::on = true);
};
template <class T> struct list_nodes;
template <class T> struct forward_list_nodes;
template <class V> struct tree_nodes; // set, multiset (V = key), map, multimap (pair)

// A libstdc++ iterator of these containers is one pointer to a node.
template <class It> const void *node_of(const It &it) {
  static_assert(sizeof(It) == sizeof(void *) && std::is_trivially_copyable_v<It>,
                "iterators are supported with libstdc++ in its normal mode only");
  const void *p;
  std::memcpy(&p, &it, sizeof p);
  return p;
}
template <class It> void *node_after(void *node) {
  It it;
  std::memcpy(&it, &node, sizeof node);
  ++it;
  return const_cast<void *>(node_of(it));
}
inline bool node_form(const Value &v) {
  return is_map(v) && get_map(v) > 0 && is_node(key_at(v, 0));
}
inline std::uint64_t element_node(const Value &v, std::size_t i) {
  std::uint64_t id = get_node(key_at(v, i));
  if (!id)
    fail("a container's node without an id");
  return id;
}
// Notes the rebuilt nodes of one container in node form: its elements', then
// its end node's (final here when decoded in place; else found from the last
// element once the container is in place; lost for an empty one, and for a
// forward_list's before_begin, which no element leads to).
template <class Nodes, class It, class C> class node_notes {
public:
  explicit node_notes(const C &c) : c_(c), nested_(temporary_depth > 0) {}
  static const void *kind() { return &iterated<Nodes>::on; }
  void element(std::uint64_t id, const void *node) {
    note_node(id, const_cast<void *>(node), kind());
    if (nested_)
      ids_.push_back(id);
  }
  void end(std::uint64_t id, const void *end, const void *last) {
    if (id && !nested_) {
      note_node(id, const_cast<void *>(end), kind());
    } else if (id && last) {
      note_node(id, const_cast<void *>(last), kind(), &node_after<It>);
      ids_.push_back(id);
    } else if (id) {
      note_lost_node(id);
    }
    if (!ids_.empty())
      note_nested(&c_, &holds, ids_.data(), ids_.size());
  }

private:
  static bool holds(const void *c) { return !static_cast<const C *>(c)->empty(); }
  const C &c_;
  bool nested_;
  std::vector<std::uint64_t> ids_;
};
template <class C, class PutElement>
void encode_nodes(Writer &w, const C &c, std::size_t n, const void *end, PutElement put) {
  put_map(w, n + 1);
  put_end_node(w, end);
  put_nil(w);
  for (auto it = c.begin(); it != c.end(); ++it) {
    put_node(w, node_of(it));
    put(*it);
  }
}

// Which library types may hold containers in node form.
template <class... Ts> bool any_nodes() { return (nodes_of<Ts>::may() || ...); }
#define CHECKSYNC_NO_NODES(PARAMS, TYPE)                                                           \
  template <PARAMS> struct nodes_of<TYPE> {                                                        \
    static bool may() { return false; }                                                            \
  };
#define CHECKSYNC_NODES_OF(PARAMS, TYPE, ...)                                                      \
  template <PARAMS> struct nodes_of<TYPE> {                                                        \
    static bool may() { return __VA_ARGS__; }                                                      \
  };
#define CHECKSYNC_COMMA ,
CHECKSYNC_NO_NODES(class C CHECKSYNC_COMMA class T CHECKSYNC_COMMA class A,
                   std::basic_string<C CHECKSYNC_COMMA T CHECKSYNC_COMMA A>)
CHECKSYNC_NO_NODES(class R CHECKSYNC_COMMA class P, std::chrono::duration<R CHECKSYNC_COMMA P>)
CHECKSYNC_NO_NODES(class C CHECKSYNC_COMMA class D, std::chrono::time_point<C CHECKSYNC_COMMA D>)
CHECKSYNC_NO_NODES(std::size_t N, std::bitset<N>)
CHECKSYNC_NO_NODES(class T, std::complex<T>)
CHECKSYNC_NO_NODES(class T CHECKSYNC_COMMA class D, std::unique_ptr<T CHECKSYNC_COMMA D>)
CHECKSYNC_NO_NODES(class T, std::shared_ptr<T>)
CHECKSYNC_NODES_OF(class... Ts, std::variant<Ts...>, any_nodes<Ts...>())
template <> struct nodes_of<std::monostate> {
  static bool may() { return false; }
};
CHECKSYNC_NODES_OF(class T CHECKSYNC_COMMA class A, std::vector<T CHECKSYNC_COMMA A>,
                   nodes_of<T>::may())
CHECKSYNC_NODES_OF(class T CHECKSYNC_COMMA class A, std::deque<T CHECKSYNC_COMMA A>,
                   nodes_of<T>::may())
CHECKSYNC_NODES_OF(class T CHECKSYNC_COMMA std::size_t N, std::array<T CHECKSYNC_COMMA N>,
                   nodes_of<T>::may())
CHECKSYNC_NODES_OF(class T, std::optional<T>, nodes_of<T>::may())
CHECKSYNC_NODES_OF(class T CHECKSYNC_COMMA class A, std::list<T CHECKSYNC_COMMA A>,
                   iterated<list_nodes<T>>::on || nodes_of<T>::may())
CHECKSYNC_NODES_OF(class T CHECKSYNC_COMMA class A, std::forward_list<T CHECKSYNC_COMMA A>,
                   iterated<forward_list_nodes<T>>::on || nodes_of<T>::may())
CHECKSYNC_NODES_OF(class K CHECKSYNC_COMMA class C CHECKSYNC_COMMA class A,
                   std::set<K CHECKSYNC_COMMA C CHECKSYNC_COMMA A>,
                   iterated<tree_nodes<K>>::on || nodes_of<K>::may())
CHECKSYNC_NODES_OF(class K CHECKSYNC_COMMA class C CHECKSYNC_COMMA class A,
                   std::multiset<K CHECKSYNC_COMMA C CHECKSYNC_COMMA A>,
                   iterated<tree_nodes<K>>::on || nodes_of<K>::may())
CHECKSYNC_NODES_OF(class K CHECKSYNC_COMMA class V CHECKSYNC_COMMA class C CHECKSYNC_COMMA class A,
                   std::map<K CHECKSYNC_COMMA V CHECKSYNC_COMMA C CHECKSYNC_COMMA A>,
                   iterated<tree_nodes<std::pair<const K CHECKSYNC_COMMA V>>>::on ||
                       any_nodes<K CHECKSYNC_COMMA V>())
CHECKSYNC_NODES_OF(class K CHECKSYNC_COMMA class V CHECKSYNC_COMMA class C CHECKSYNC_COMMA class A,
                   std::multimap<K CHECKSYNC_COMMA V CHECKSYNC_COMMA C CHECKSYNC_COMMA A>,
                   iterated<tree_nodes<std::pair<const K CHECKSYNC_COMMA V>>>::on ||
                       any_nodes<K CHECKSYNC_COMMA V>())
CHECKSYNC_NODES_OF(class K CHECKSYNC_COMMA class H CHECKSYNC_COMMA class E CHECKSYNC_COMMA class A,
                   std::unordered_set<K CHECKSYNC_COMMA H CHECKSYNC_COMMA E CHECKSYNC_COMMA A>,
                   nodes_of<K>::may())
CHECKSYNC_NODES_OF(class K CHECKSYNC_COMMA class H CHECKSYNC_COMMA class E CHECKSYNC_COMMA class A,
                   std::unordered_multiset<K CHECKSYNC_COMMA H CHECKSYNC_COMMA E CHECKSYNC_COMMA A>,
                   nodes_of<K>::may())
CHECKSYNC_NODES_OF(
    class K CHECKSYNC_COMMA class V CHECKSYNC_COMMA class H CHECKSYNC_COMMA class E
        CHECKSYNC_COMMA class A,
    std::unordered_map<K CHECKSYNC_COMMA V CHECKSYNC_COMMA H CHECKSYNC_COMMA E CHECKSYNC_COMMA A>,
    any_nodes<K CHECKSYNC_COMMA V>())
CHECKSYNC_NODES_OF(class K CHECKSYNC_COMMA class V CHECKSYNC_COMMA class H CHECKSYNC_COMMA class E
                       CHECKSYNC_COMMA class A,
                   std::unordered_multimap<
                       K CHECKSYNC_COMMA V CHECKSYNC_COMMA H CHECKSYNC_COMMA E CHECKSYNC_COMMA A>,
                   any_nodes<K CHECKSYNC_COMMA V>())
CHECKSYNC_NODES_OF(class T CHECKSYNC_COMMA class C, std::queue<T CHECKSYNC_COMMA C>,
                   nodes_of<C>::may())
CHECKSYNC_NODES_OF(class T CHECKSYNC_COMMA class C, std::stack<T CHECKSYNC_COMMA C>,
                   nodes_of<C>::may())
CHECKSYNC_NODES_OF(class T CHECKSYNC_COMMA class C CHECKSYNC_COMMA class P,
                   std::priority_queue<T CHECKSYNC_COMMA C CHECKSYNC_COMMA P>, nodes_of<C>::may())
CHECKSYNC_NODES_OF(class A CHECKSYNC_COMMA class B, std::pair<A CHECKSYNC_COMMA B>,
                   any_nodes<A CHECKSYNC_COMMA B>())
CHECKSYNC_NODES_OF(class... Ts, std::tuple<Ts...>, any_nodes<Ts...>())
#undef CHECKSYNC_NO_NODES
#undef CHECKSYNC_NODES_OF
#undef CHECKSYNC_COMMA

// std::basic_string
template <class C, class Tr>
void encode(Writer &w, const std::basic_string<C, Tr> &s) {
  if constexpr (sizeof(C) == 1)
    put_str(w, reinterpret_cast<const char *>(s.data()), s.size());
  else
    encode_seq(w, s, s.size());
}
template <class C, class Tr>
void decode_into(const Value &v, std::basic_string<C, Tr> *dst) {
  if constexpr (sizeof(C) == 1) {
    std::string_view sv = get_str(v);
    ::new (dst) std::basic_string<C, Tr>(reinterpret_cast<const C *>(sv.data()), sv.size());
  } else {
    auto *s = ::new (dst) std::basic_string<C, Tr>();
    std::size_t n = get_array(v);
    s->reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      with_decoded<C>(at(v, i), [&](C &&c) { s->push_back(c); });
  }
}
template <class C, class Tr> void visit(RefVisitor &, const std::basic_string<C, Tr> &) {}

// std::vector, std::deque
template <class T> void encode(Writer &w, const std::vector<T> &s) { encode_seq(w, s, s.size()); }
inline void encode(Writer &w, const std::vector<bool> &s) {
  put_array(w, s.size());
  for (bool b : s)
    put_bool(w, b);
}
template <class T> void decode_into(const Value &v, std::vector<T> *dst) {
  auto *s = ::new (dst) std::vector<T>();
  std::size_t n = get_array(v);
  s->reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    with_decoded<T>(at(v, i), [&](T &&e) { s->push_back(std::move(e)); });
}
template <class T> void visit(RefVisitor &vis, const std::vector<T> &s) { visit_seq(vis, s); }
inline void visit(RefVisitor &, const std::vector<bool> &) {}

template <class T> void encode(Writer &w, const std::deque<T> &s) { encode_seq(w, s, s.size()); }
template <class T> void decode_into(const Value &v, std::deque<T> *dst) {
  auto *s = ::new (dst) std::deque<T>();
  std::size_t n = get_array(v);
  for (std::size_t i = 0; i < n; ++i)
    with_decoded<T>(at(v, i), [&](T &&e) { s->push_back(std::move(e)); });
}
template <class T> void visit(RefVisitor &vis, const std::deque<T> &s) { visit_seq(vis, s); }

// std::list, std::forward_list: arrays, in order; in node form when
// iterators into them are held (a forward_list's first entry is its
// before_begin node: its end is null, an iterator's nil).
template <class T> void encode(Writer &w, const std::list<T> &s) {
  if (!iterated<list_nodes<T>>::on)
    return encode_seq(w, s, s.size());
  encode_nodes(w, s, s.size(), node_of(s.end()), [&](const T &e) { encode(w, e); });
}
template <class T> void decode_into(const Value &v, std::list<T> *dst) {
  auto *s = ::new (dst) std::list<T>();
  auto push = [&](const Value &e) {
    with_decoded<T>(e, [&](T &&x) { s->push_back(std::move(x)); });
  };
  if (!node_form(v)) {
    std::size_t n = get_array(v);
    for (std::size_t i = 0; i < n; ++i)
      push(at(v, i));
    return;
  }
  node_notes<list_nodes<T>, typename std::list<T>::iterator, std::list<T>> notes(*s);
  std::size_t n = get_map(v);
  for (std::size_t i = 1; i < n; ++i) {
    push(value_at(v, i));
    notes.element(element_node(v, i), node_of(std::prev(s->end())));
  }
  notes.end(get_node(key_at(v, 0)), node_of(s->end()),
            s->empty() ? nullptr : node_of(std::prev(s->end())));
}
template <class T> void visit(RefVisitor &vis, const std::list<T> &s) { visit_seq(vis, s); }
template <class T> void encode(Writer &w, const std::forward_list<T> &s) {
  std::size_t n = std::size_t(std::distance(s.begin(), s.end()));
  if (!iterated<forward_list_nodes<T>>::on)
    return encode_seq(w, s, n);
  encode_nodes(w, s, n, node_of(s.before_begin()), [&](const T &e) { encode(w, e); });
}
template <class T> void decode_into(const Value &v, std::forward_list<T> *dst) {
  auto *s = ::new (dst) std::forward_list<T>();
  auto tail = s->before_begin();
  auto push = [&](const Value &e) {
    with_decoded<T>(e, [&](T &&x) { tail = s->insert_after(tail, std::move(x)); });
  };
  if (!node_form(v)) {
    std::size_t n = get_array(v);
    for (std::size_t i = 0; i < n; ++i)
      push(at(v, i));
    return;
  }
  node_notes<forward_list_nodes<T>, typename std::forward_list<T>::iterator, std::forward_list<T>>
      notes(*s);
  std::size_t n = get_map(v);
  for (std::size_t i = 1; i < n; ++i) {
    push(value_at(v, i));
    notes.element(element_node(v, i), node_of(tail));
  }
  notes.end(get_node(key_at(v, 0)), node_of(s->before_begin()), nullptr);
}
template <class T> void visit(RefVisitor &vis, const std::forward_list<T> &s) {
  visit_seq(vis, s);
}

// std::array
template <class T, std::size_t N> void encode(Writer &w, const std::array<T, N> &s) {
  encode_seq(w, s, N);
}
template <class T, std::size_t N> void decode_into(const Value &v, std::array<T, N> *dst) {
  if (get_array(v) != N)
    fail("std::array with the wrong number of elements");
  for (std::size_t i = 0; i < N; ++i)
    decode_into(at(v, i), dst->data() + i); // std::array<T,N> is its elements
}
template <class T, std::size_t N> void visit(RefVisitor &vis, const std::array<T, N> &s) {
  visit_seq(vis, s);
}

// Sets and multisets, ordered or not: arrays, in iteration order (so a
// multiset's equal elements keep their order). Comparators, hashers and
// key_equal are rebuilt by default construction: the plugin admits only
// stateless ones (empty and default-constructible).
// Ordered ones in node form when iterators into them are held.
template <class S> void decode_set(const Value &v, S *s) {
  using K = typename S::key_type;
  if (!node_form(v)) {
    std::size_t n = get_array(v);
    for (std::size_t i = 0; i < n; ++i)
      with_decoded<K>(at(v, i), [&](K &&k) { s->insert(s->end(), std::move(k)); });
    return;
  }
  if constexpr (requires { s->key_comp(); }) { // set, multiset
    node_notes<tree_nodes<K>, typename S::iterator, S> notes(*s);
    std::size_t n = get_map(v);
    for (std::size_t i = 1; i < n; ++i)
      with_decoded<K>(value_at(v, i), [&](K &&k) {
        std::size_t before = s->size();
        auto at_ = s->insert(s->end(), std::move(k));
        if (s->size() == before)
          fail("a set in node form with a key twice");
        notes.element(element_node(v, i), node_of(at_));
      });
    notes.end(get_node(key_at(v, 0)), node_of(s->end()),
              s->empty() ? nullptr : node_of(std::prev(s->end())));
  } else {
    fail("an unordered set in node form");
  }
}
template <class S> void encode_set(Writer &w, const S &s) {
  if constexpr (requires { s.key_comp(); })
    if (iterated<tree_nodes<typename S::value_type>>::on)
      return encode_nodes(w, s, s.size(), node_of(s.end()), [&](const auto &k) { encode(w, k); });
  encode_seq(w, s, s.size());
}
#define CHECKSYNC_CODEC_SET(TEMPLATE, PARAMS, ARGS, RESERVE)                                       \
  template <PARAMS> void encode(Writer &w, const TEMPLATE<ARGS> &s) { encode_set(w, s); }          \
  template <PARAMS> void decode_into(const Value &v, TEMPLATE<ARGS> *dst) {                        \
    auto *s = ::new (dst) TEMPLATE<ARGS>();                                                        \
    if constexpr (RESERVE)                                                                         \
      s->reserve(get_array(v));                                                                    \
    decode_set(v, s);                                                                              \
  }                                                                                                \
  template <PARAMS> void visit(RefVisitor &vis, const TEMPLATE<ARGS> &s) { visit_seq(vis, s); }
#define CHECKSYNC_COMMA ,
CHECKSYNC_CODEC_SET(std::set, class K CHECKSYNC_COMMA class C CHECKSYNC_COMMA class A,
                    K CHECKSYNC_COMMA C CHECKSYNC_COMMA A, false)
CHECKSYNC_CODEC_SET(std::multiset, class K CHECKSYNC_COMMA class C CHECKSYNC_COMMA class A,
                    K CHECKSYNC_COMMA C CHECKSYNC_COMMA A, false)
CHECKSYNC_CODEC_SET(std::unordered_set, class K CHECKSYNC_COMMA class H CHECKSYNC_COMMA class E
                    CHECKSYNC_COMMA class A, K CHECKSYNC_COMMA H CHECKSYNC_COMMA E
                    CHECKSYNC_COMMA A, true)
CHECKSYNC_CODEC_SET(std::unordered_multiset, class K CHECKSYNC_COMMA class H CHECKSYNC_COMMA
                    class E CHECKSYNC_COMMA class A, K CHECKSYNC_COMMA H CHECKSYNC_COMMA E
                    CHECKSYNC_COMMA A, true)
#undef CHECKSYNC_CODEC_SET
#undef CHECKSYNC_COMMA

// Maps and multimaps: msgpack maps in iteration order (a multimap's equal
// keys appear once per entry, in order).
// Ordered ones in node form when iterators into them are held (each
// element [key, value]).
template <class M> void encode_map(Writer &w, const M &m) {
  if constexpr (requires { m.key_comp(); })
    if (iterated<tree_nodes<typename M::value_type>>::on)
      return encode_nodes(w, m, m.size(), node_of(m.end()), [&](const auto &kv) {
        put_array(w, 2);
        encode(w, kv.first);
        encode(w, kv.second);
      });
  put_map(w, m.size());
  for (const auto &[k, v] : m) {
    encode(w, k);
    encode(w, v);
  }
}
template <class M> void decode_map(const Value &v, M *m) {
  using K = typename M::key_type;
  using V = typename M::mapped_type;
  auto put = [&](const Value &key, const Value &val) {
    typename M::iterator at_;
    with_decoded<K>(key, [&](K &&k) {
      with_decoded<V>(val, [&](V &&x) {
        std::size_t before = m->size();
        at_ = m->emplace_hint(m->end(), std::move(k), std::move(x));
        if (m->size() == before) // (a discarded value may have held noted nodes)
          fail("a map with a key twice");
      });
    });
    return at_;
  };
  if (!node_form(v)) {
    std::size_t n = get_map(v);
    for (std::size_t i = 0; i < n; ++i)
      put(key_at(v, i), value_at(v, i));
    return;
  }
  if constexpr (requires { m->key_comp(); }) { // map, multimap
    node_notes<tree_nodes<typename M::value_type>, typename M::iterator, M> notes(*m);
    std::size_t n = get_map(v);
    for (std::size_t i = 1; i < n; ++i) {
      const Value &kv = value_at(v, i);
      if (get_array(kv) != 2)
        fail("a map element in node form is not [key, value]");
      notes.element(element_node(v, i), node_of(put(at(kv, 0), at(kv, 1))));
    }
    notes.end(get_node(key_at(v, 0)), node_of(m->end()),
              m->empty() ? nullptr : node_of(std::prev(m->end())));
  } else {
    fail("an unordered map in node form");
  }
}
template <class M> void visit_map(RefVisitor &vis, const M &m) {
  if constexpr (holds_refs_v<typename M::key_type> || holds_refs_v<typename M::mapped_type>)
    for (const auto &[k, v] : m) {
      visit(vis, k);
      visit(vis, v);
    }
}
#define CHECKSYNC_CODEC_MAP(TEMPLATE, PARAMS, ARGS, RESERVE)                                  \
  template <PARAMS> void encode(Writer &w, const TEMPLATE<ARGS> &m) { encode_map(w, m); }     \
  template <PARAMS> void decode_into(const Value &v, TEMPLATE<ARGS> *dst) {                  \
    auto *m = ::new (dst) TEMPLATE<ARGS>();                                                  \
    if constexpr (RESERVE)                                                                   \
      m->reserve(get_map(v));                                                                \
    decode_map(v, m);                                                                        \
  }                                                                                          \
  template <PARAMS> void visit(RefVisitor &vis, const TEMPLATE<ARGS> &m) { visit_map(vis, m); }
#define CHECKSYNC_COMMA ,
CHECKSYNC_CODEC_MAP(std::map, class K CHECKSYNC_COMMA class V CHECKSYNC_COMMA class C
                    CHECKSYNC_COMMA class A, K CHECKSYNC_COMMA V CHECKSYNC_COMMA C
                    CHECKSYNC_COMMA A, false)
CHECKSYNC_CODEC_MAP(std::multimap, class K CHECKSYNC_COMMA class V CHECKSYNC_COMMA class C
                    CHECKSYNC_COMMA class A, K CHECKSYNC_COMMA V CHECKSYNC_COMMA C
                    CHECKSYNC_COMMA A, false)
CHECKSYNC_CODEC_MAP(std::unordered_map, class K CHECKSYNC_COMMA class V CHECKSYNC_COMMA class H
                    CHECKSYNC_COMMA class E CHECKSYNC_COMMA class A, K CHECKSYNC_COMMA V
                    CHECKSYNC_COMMA H CHECKSYNC_COMMA E CHECKSYNC_COMMA A, true)
CHECKSYNC_CODEC_MAP(std::unordered_multimap, class K CHECKSYNC_COMMA class V CHECKSYNC_COMMA
                    class H CHECKSYNC_COMMA class E CHECKSYNC_COMMA class A, K CHECKSYNC_COMMA V
                    CHECKSYNC_COMMA H CHECKSYNC_COMMA E CHECKSYNC_COMMA A, true)
#undef CHECKSYNC_CODEC_MAP
#undef CHECKSYNC_COMMA

// std::queue, std::stack, std::priority_queue: their underlying container,
// exactly (a priority queue's heap order included), through the protected
// member `c` the standard gives adapters.
template <class Adapter> struct adapter_access : Adapter {
  static const typename Adapter::container_type &get(const Adapter &a) {
    return a.*(&adapter_access::c);
  }
  static typename Adapter::container_type &get(Adapter &a) { return a.*(&adapter_access::c); }
};
template <class Adapter> void encode_adapter(Writer &w, const Adapter &a) {
  encode(w, adapter_access<Adapter>::get(a));
}
template <class Adapter> void decode_adapter(const Value &v, Adapter *dst) {
  using C = typename Adapter::container_type;
  auto *a = ::new (dst) Adapter();
  with_decoded<C>(v, [&](C &&c) { adapter_access<Adapter>::get(*a) = std::move(c); });
}
template <class T, class C> void encode(Writer &w, const std::queue<T, C> &q) {
  encode_adapter(w, q);
}
template <class T, class C> void decode_into(const Value &v, std::queue<T, C> *dst) {
  decode_adapter(v, dst);
}
template <class T, class C> void visit(RefVisitor &vis, const std::queue<T, C> &q) {
  visit(vis, adapter_access<std::queue<T, C>>::get(q));
}
template <class T, class C> void encode(Writer &w, const std::stack<T, C> &s) {
  encode_adapter(w, s);
}
template <class T, class C> void decode_into(const Value &v, std::stack<T, C> *dst) {
  decode_adapter(v, dst);
}
template <class T, class C> void visit(RefVisitor &vis, const std::stack<T, C> &s) {
  visit(vis, adapter_access<std::stack<T, C>>::get(s));
}
template <class T, class C, class P>
void encode(Writer &w, const std::priority_queue<T, C, P> &q) {
  encode_adapter(w, q);
}
template <class T, class C, class P>
void decode_into(const Value &v, std::priority_queue<T, C, P> *dst) {
  decode_adapter(v, dst);
}
template <class T, class C, class P>
void visit(RefVisitor &vis, const std::priority_queue<T, C, P> &q) {
  visit(vis, adapter_access<std::priority_queue<T, C, P>>::get(q));
}

// std::bitset<N>: bin of (N + 7) / 8 bytes, bit i in byte i / 8.
template <std::size_t N> void encode(Writer &w, const std::bitset<N> &b) {
  unsigned char bytes[(N + 7) / 8 + 1] = {};
  for (std::size_t i = 0; i < N; ++i)
    if (b[i])
      bytes[i / 8] |= static_cast<unsigned char>(1u << (i % 8));
  put_bytes(w, bytes, (N + 7) / 8);
}
template <std::size_t N> void decode_into(const Value &v, std::bitset<N> *dst) {
  unsigned char bytes[(N + 7) / 8 + 1] = {};
  get_bytes(v, bytes, (N + 7) / 8);
  auto *b = ::new (dst) std::bitset<N>();
  for (std::size_t i = 0; i < N; ++i)
    if (bytes[i / 8] & (1u << (i % 8)))
      b->set(i);
}
template <std::size_t N> void visit(RefVisitor &, const std::bitset<N> &) {}

// std::complex<T>: [real, imaginary].
template <class T> void encode(Writer &w, const std::complex<T> &c) {
  put_array(w, 2);
  encode(w, c.real());
  encode(w, c.imag());
}
template <class T> void decode_into(const Value &v, std::complex<T> *dst) {
  if (get_array(v) != 2)
    fail("std::complex without two values");
  T re, im;
  decode_into(at(v, 0), &re);
  decode_into(at(v, 1), &im);
  ::new (dst) std::complex<T>(re, im);
}
template <class T> void visit(RefVisitor &, const std::complex<T> &) {}

// std::monostate: nil. std::variant: [index, value of that alternative].
inline void encode(Writer &w, const std::monostate &) { put_nil(w); }
inline void decode_into(const Value &v, std::monostate *dst) {
  if (!is_nil(v))
    fail("std::monostate that is not nil");
  ::new (dst) std::monostate();
}
inline void visit(RefVisitor &, const std::monostate &) {}
template <class... Ts> void encode(Writer &w, const std::variant<Ts...> &x) {
  if (x.valueless_by_exception())
    fail("a std::variant is valueless (an exception interrupted an assignment)");
  put_array(w, 2);
  put_uint(w, x.index());
  std::visit([&](const auto &alt) { encode(w, alt); }, x);
}
template <class... Ts, std::size_t... I>
void decode_variant(const Value &v, std::size_t index, std::variant<Ts...> *dst,
                    std::index_sequence<I...>) {
  bool done = ((index == I ? (with_decoded<std::variant_alternative_t<I, std::variant<Ts...>>>(
                                  v,
                                  [&](auto &&alt) {
                                    ::new (dst) std::variant<Ts...>(std::in_place_index<I>,
                                                                    std::move(alt));
                                  }),
                              true)
                           : false) ||
               ...);
  if (!done)
    fail("std::variant alternative out of range");
}
template <class... Ts> void decode_into(const Value &v, std::variant<Ts...> *dst) {
  if (get_array(v) != 2)
    fail("std::variant without [index, value]");
  std::uint64_t index = get_uint(at(v, 0));
  decode_variant(at(v, 1), std::size_t(index), dst, std::index_sequence_for<Ts...>{});
}
template <class... Ts> void visit(RefVisitor &vis, const std::variant<Ts...> &x) {
  if constexpr ((holds_refs_v<Ts> || ...))
    if (!x.valueless_by_exception())
      std::visit([&](const auto &alt) { visit(vis, alt); }, x);
}

// std::optional: an array of 0 or 1 value (so optional<T*>{nullptr} != nullopt).
template <class T> void encode(Writer &w, const std::optional<T> &o) {
  put_array(w, o ? 1 : 0);
  if (o)
    encode(w, *o);
}
template <class T> void decode_into(const Value &v, std::optional<T> *dst) {
  std::size_t n = get_array(v);
  if (n > 1)
    fail("std::optional with more than one value");
  auto *o = ::new (dst) std::optional<T>();
  if (n)
    with_decoded<T>(at(v, 0), [&](T &&x) { o->emplace(std::move(x)); });
}
template <class T> void visit(RefVisitor &vis, const std::optional<T> &o) {
  if constexpr (holds_refs_v<T>)
    if (o)
      visit(vis, *o);
}

// std::pair, std::tuple: arrays.
template <class A, class B> void encode(Writer &w, const std::pair<A, B> &p) {
  put_array(w, 2);
  encode(w, p.first);
  encode(w, p.second);
}
template <class A, class B> void decode_into(const Value &v, std::pair<A, B> *dst) {
  if (get_array(v) != 2)
    fail("std::pair without two values");
  with_decoded<A>(at(v, 0), [&](A &&a) {
    with_decoded<B>(at(v, 1), [&](B &&b) { ::new (dst) std::pair<A, B>(std::move(a), std::move(b)); });
  });
}
template <class A, class B> void visit(RefVisitor &vis, const std::pair<A, B> &p) {
  visit(vis, p.first);
  visit(vis, p.second);
}
template <class... Ts> void encode(Writer &w, const std::tuple<Ts...> &t) {
  put_array(w, sizeof...(Ts));
  std::apply([&](const auto &...e) { (encode(w, e), ...); }, t);
}
template <class... Ts> void decode_into(const Value &v, std::tuple<Ts...> *dst) {
  if (get_array(v) != sizeof...(Ts))
    fail("std::tuple with the wrong number of values");
  auto *t = ::new (dst) std::tuple<Ts...>();
  std::size_t i = 0;
  std::apply([&](auto &...e) {
    ((with_decoded<std::remove_reference_t<decltype(e)>>(
          at(v, i++), [&](auto &&x) { e = std::move(x); })),
     ...);
  }, *t);
}
template <class... Ts> void visit(RefVisitor &vis, const std::tuple<Ts...> &t) {
  std::apply([&](const auto &...e) { (visit(vis, e), ...); }, t);
}

// std::chrono: the count.
template <class R, class P> void encode(Writer &w, const std::chrono::duration<R, P> &d) {
  encode(w, d.count());
}
template <class R, class P> void decode_into(const Value &v, std::chrono::duration<R, P> *dst) {
  with_decoded<R>(v, [&](R &&r) { ::new (dst) std::chrono::duration<R, P>(r); });
}
template <class R, class P> void visit(RefVisitor &, const std::chrono::duration<R, P> &) {}
template <class C, class D> void encode(Writer &w, const std::chrono::time_point<C, D> &t) {
  encode(w, t.time_since_epoch());
}
template <class C, class D> void decode_into(const Value &v, std::chrono::time_point<C, D> *dst) {
  with_decoded<D>(v, [&](D &&d) { ::new (dst) std::chrono::time_point<C, D>(d); });
}
template <class C, class D> void visit(RefVisitor &, const std::chrono::time_point<C, D> &) {}

// Iterators into list, forward_list, map, multimap, set, multiset: their
// node's id (nil: singular, or a forward_list's end). Restored to the node
// rebuilt for that id once every object is decoded (docs/iterators.md).
#if defined(__GLIBCXX__)
#define CHECKSYNC_CODEC_ITERATOR(ITERATOR, NODES)                                                  \
  template <class T> void encode(Writer &w, const std::ITERATOR<T> &it) {                          \
    (void)register_iterated<NODES<T>>::done;                                                       \
    put_node(w, node_of(it));                                                                      \
  }                                                                                                \
  template <class T> void decode_into(const Value &v, std::ITERATOR<T> *dst) {                     \
    (void)register_iterated<NODES<T>>::done;                                                       \
    std::uint64_t id = get_node(v);                                                                \
    static_assert(sizeof(std::ITERATOR<T>) == sizeof id);                                          \
    std::memcpy(static_cast<void *>(dst), &id, sizeof id); /* the node, once fixed */              \
    if (id)                                                                                        \
      noted_iterator();                                                                            \
  }                                                                                                \
  template <class T> void visit(RefVisitor &vis, const std::ITERATOR<T> &it) {                     \
    visit_node(vis, &it, &iterated<NODES<T>>::on);                                                 \
  }
CHECKSYNC_CODEC_ITERATOR(_List_iterator, list_nodes)
CHECKSYNC_CODEC_ITERATOR(_List_const_iterator, list_nodes)
CHECKSYNC_CODEC_ITERATOR(_Fwd_list_iterator, forward_list_nodes)
CHECKSYNC_CODEC_ITERATOR(_Fwd_list_const_iterator, forward_list_nodes)
CHECKSYNC_CODEC_ITERATOR(_Rb_tree_iterator, tree_nodes)
CHECKSYNC_CODEC_ITERATOR(_Rb_tree_const_iterator, tree_nodes)
#undef CHECKSYNC_CODEC_ITERATOR
#endif

// std::unique_ptr<P> (default deleter): a ref it owns.
template <class T> void encode(Writer &w, const std::unique_ptr<T> &p) { put_ref(w, p.get()); }
template <class T> void decode_into(const Value &v, std::unique_ptr<T> *dst) {
  using E = std::remove_extent_t<T>;
  ::new (dst) std::unique_ptr<T>(static_cast<E *>(get_ref(v)));
}
template <class T> void visit(RefVisitor &vis, const std::unique_ptr<T> &p) {
  visit_ref(vis, p.get());
}

// std::shared_ptr<P>: a ref; on resume all shared_ptrs to one object share
// one control block (created by the first one decoded).
template <class T> void encode(Writer &w, const std::shared_ptr<T> &p) { put_ref(w, p.get()); }
template <class T> void decode_into(const Value &v, std::shared_ptr<T> *dst) {
  using E = std::remove_extent_t<T>;
  E *p = static_cast<E *>(get_ref(v));
  if (!p) {
    ::new (dst) std::shared_ptr<T>();
    return;
  }
  std::shared_ptr<void> *owner = shared_owner(p);
  using M = std::remove_cv_t<E>; // shared_ptr<const P>: the owner holds a P
  if (!*owner)
    *owner = std::shared_ptr<M>(const_cast<M *>(p));
  ::new (dst) std::shared_ptr<T>(*owner, p); // aliasing: shares the owner
}
template <class T> void visit(RefVisitor &vis, const std::shared_ptr<T> &p) {
  visit_ref(vis, p.get());
}

} // namespace checksync::codec

#endif
