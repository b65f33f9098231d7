// Iterators stored in persistent state (issue 14): the LRU cache's
// unordered_map<K, list<Entry>::iterator>, iterators into map, multimap,
// set, multiset and forward_list, const iterators, end() iterators (also of
// a list nested in a vector), in an object other than the containers' and
// in a root. Rounds often write only the containers' object, so a delta
// holds the containers and not the iterators (node ids must stay valid
// across resumes: docs/iterators.md). The digest folds each iterator as its
// position in its container and the element there.
#include "../matrix.h"

#include <forward_list>
#include <iterator>
#include <list>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

struct [[checksync::persistent]] Entry {
  std::int64_t key;
  std::string value;
};

using Order = std::list<Entry>;

struct [[checksync::persistent]] Store {
  Order order; // most recently used first
  std::map<std::string, std::int32_t> ranks;
  std::multimap<std::int32_t, std::string> events;
  std::set<std::int32_t> seen;
  std::multiset<std::int16_t> votes;
  std::forward_list<std::int32_t> stack;
  std::vector<std::list<std::int32_t>> buckets; // nested: never empty, see below
};

struct [[checksync::persistent]] Index {
  std::unordered_map<std::int64_t, Order::iterator> where; // the LRU's index
  Order::const_iterator oldest;                             // end() when empty
  std::map<std::string, std::int32_t>::iterator best;       // end() when none
  std::multimap<std::int32_t, std::string>::iterator last_event;
  std::vector<std::set<std::int32_t>::const_iterator> marks;
  std::multiset<std::int16_t>::iterator vote;
  std::forward_list<std::int32_t>::iterator top; // end() (null) when empty
  std::vector<std::list<std::int32_t>::iterator> bucket_tails; // end() of each bucket
  std::list<std::int32_t>::iterator bucket_first;
};

[[checksync::root]] Store *store = nullptr;
[[checksync::root]] Index *index_ = nullptr;
[[checksync::root]] std::set<std::int32_t>::iterator root_seen; // a root iterator

namespace {
constexpr std::size_t kCapacity = 12;

void touch(std::int64_t key, std::string value) {
  Order &o = store->order;
  if (auto it = index_->where.find(key); it != index_->where.end()) {
    it->second->value = std::move(value);
    o.splice(o.begin(), o, it->second); // the iterator stays valid
    return;
  }
  o.push_front(Entry{key, std::move(value)});
  index_->where[key] = o.begin();
  if (o.size() > kCapacity) {
    index_->where.erase(o.back().key);
    o.pop_back();
  }
}

std::string word(mx::Rng &rng) { return std::string(1 + rng.below(5), char('a' + rng.below(26))); }

// A value written through the LRU's iterator, the Store only read (const):
// no barrier sees the write (node_holders.h).
void write_through(mx::Rng &rng) {
  const Order &order = store->order; // (std::as_const takes a T&: that marks)
  if (order.empty())
    return;
  auto e = order.begin(); // picked in list order: a resume reorders the hash map
  std::advance(e, std::ptrdiff_t(rng.below(order.size())));
  index_->where.at(e->key)->value = word(rng);
}

// Writes only the Store (its containers, or an element through an iterator):
// iterators stay valid because these containers keep their nodes.
void store_only(mx::Rng &rng) {
  switch (rng.below(4)) {
  case 0:
    write_through(rng);
    break;
  case 1:
    store->ranks.emplace(word(rng), std::int32_t(rng.below(100)));
    break;
  case 2:
    store->seen.insert(std::int32_t(rng.below(1000)));
    break;
  default:
    store->buckets[rng.below(store->buckets.size())].push_front(std::int32_t(rng.next()));
  }
}

void index_and_store(mx::Rng &rng) {
  switch (rng.below(8)) {
  case 0:
  case 1:
    touch(std::int64_t(rng.below(20)), word(rng));
    break;
  case 2: {
    auto [it, _] = store->ranks.emplace(word(rng), std::int32_t(rng.below(100)));
    if (index_->best == store->ranks.end() || it->second > index_->best->second)
      index_->best = it;
    break;
  }
  case 3:
    index_->last_event = store->events.emplace(std::int32_t(rng.below(4)), word(rng));
    break;
  case 4: {
    auto [it, _] = store->seen.insert(std::int32_t(rng.below(1000)));
    if (index_->marks.size() < 6)
      index_->marks.push_back(it);
    else
      index_->marks[rng.below(6)] = rng.chance(20) ? store->seen.cend() : it;
    break;
  }
  case 5:
    index_->vote = store->votes.insert(std::int16_t(rng.below(5)));
    break;
  case 6:
    if (!store->stack.empty() && rng.chance(30))
      store->stack.pop_front();
    else
      store->stack.push_front(std::int32_t(rng.below(50)));
    index_->top = store->stack.begin();
    break;
  default:
    index_->bucket_first = store->buckets[rng.below(store->buckets.size())].begin();
  }
  index_->oldest = store->order.empty() ? store->order.cend() : std::prev(store->order.cend());
}

// Counted by hand: std::distance takes end() (a pointer into the Store) by
// value into a call the pass cannot see through, which marks the Store, and
// this test needs rounds in which nothing marks it.
template <class C, class It> void position(mx::Digest &d, const C &c, It it) {
  std::uint64_t n = 0;
  for (auto i = c.begin(); i != typename C::const_iterator(it); ++i)
    ++n;
  d.u(n);
}
} // namespace

void mx_round(std::uint64_t, std::uint64_t round, mx::Rng &rng) {
  if (round == 1) {
    store = new Store;
    index_ = new Index;
    for (int b = 0; b < 3; ++b)
      store->buckets.emplace_back(1, b); // nested lists, each with one element
    for (auto &b : store->buckets)
      index_->bucket_tails.push_back(b.end());
    index_->bucket_first = store->buckets[0].begin();
    index_->oldest = store->order.cend();
    index_->best = store->ranks.end();
    index_->last_event = store->events.end();
    index_->vote = store->votes.end();
    index_->top = store->stack.end();
    for (int i = 0; i < 30; ++i)
      index_and_store(rng);
    root_seen = store->seen.end();
  }
  if (round % 4 == 0) // the Store's value written through an iterator alone
    for (int i = int(1 + rng.below(3)); i > 0; --i)
      write_through(rng);
  else if (rng.chance(50))
    for (int i = int(1 + rng.below(3)); i > 0; --i)
      store_only(rng);
  else
    for (int i = int(1 + rng.below(4)); i > 0; --i)
      index_and_store(rng);
  if (rng.chance(10) && !store->seen.empty())
    root_seen = store->seen.begin();
}

void mx_resumed(std::uint64_t, std::uint64_t) {}

void mx_digest(mx::Digest &d) {
  if (!d.ref(store) || !d.ref(index_))
    return;
  const Store &s = *store;
  const Index &x = *index_;
  d.u(s.order.size());
  for (const Entry &e : s.order) {
    d.i(e.key);
    d.str(e.value);
  }
  // The index: each key's iterator must point at the entry with that key.
  d.u(x.where.size());
  for (const Entry &e : s.order) {
    auto it = x.where.find(e.key);
    d.u(it != x.where.end() && &*it->second == &e);
  }
  position(d, s.order, x.oldest);
  d.u(s.ranks.size());
  for (auto &[k, v] : s.ranks) {
    d.str(k);
    d.i(v);
  }
  position(d, s.ranks, x.best);
  d.u(s.events.size());
  for (auto &[k, v] : s.events) {
    d.i(k);
    d.str(v);
  }
  position(d, s.events, x.last_event);
  d.u(s.seen.size());
  for (auto v : s.seen)
    d.i(v);
  for (auto it : x.marks)
    position(d, s.seen, it);
  position(d, s.seen, root_seen);
  d.u(s.votes.size());
  for (auto v : s.votes)
    d.i(v);
  position(d, s.votes, x.vote);
  for (auto v : s.stack)
    d.i(v);
  position(d, s.stack, x.top);
  d.u(s.buckets.size());
  for (std::size_t b = 0; b < s.buckets.size(); ++b) {
    for (auto v : s.buckets[b])
      d.i(v);
    d.u(x.bucket_tails[b] == s.buckets[b].end());
  }
  bool found = false;
  for (const auto &b : s.buckets)
    if (!b.empty() && x.bucket_first == b.begin())
      found = true;
  d.u(found);
}
