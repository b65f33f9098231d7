// inspect_dot.cpp - `checksync-rt inspect --dot`: the object graph of a
// checkpoint for Graphviz (`| dot -Tsvg > state.svg`). Objects are reached
// breadth-first from the roots, at most --max-nodes of them, so a large
// state gives a readable picture of its top and a note of what was left out.
#include "inspect_view.h"

#include <deque>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace checksync::cli {
namespace {
using namespace checksync::detail;

std::string dot_quote(const std::string &s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      o += '\\';
    o += c;
  }
  return o + "\"";
}

} // namespace

std::string inspect_dot(const InspectView &v, std::size_t max_nodes) {
  const Image &img = *v.img;
  std::ostringstream os;
  os << "digraph checkpoint {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n";
  std::unordered_set<std::uint64_t> shown;
  std::deque<std::uint64_t> queue;
  std::uint64_t edges_out = 0; // edges to objects beyond the bound
  auto reach = [&](const std::string &from, const std::string &label, std::uint64_t id) {
    if (img.find(id) < 0)
      return; // a dangling ref in garbage: nothing to draw
    if (!shown.count(id)) {
      if (shown.size() >= max_nodes) {
        ++edges_out;
        return;
      }
      shown.insert(id);
      queue.push_back(id);
    }
    os << "  " << from << " -> o" << id << " [label=" << dot_quote(label) << "];\n";
  };
  for (std::size_t r = 0; r < img.roots.size(); ++r) {
    const auto &root = img.roots[r];
    std::string node = "r" + std::to_string(r);
    os << "  " << node << " [shape=ellipse, label=" << dot_quote(root.root.name) << "];\n";
    for_each_ref(img, *root.value, root.root.field,
                 [&](std::uint64_t id) { reach(node, "", id); });
  }
  while (!queue.empty()) {
    std::uint64_t id = queue.front();
    queue.pop_front();
    const DecodedObject &o = img.objects[std::size_t(img.find(id))];
    const Type &t = img.types[o.type];
    std::string node = "o" + std::to_string(id);
    std::string label = "#" + std::to_string(id) + " " + t.name;
    if (o.count != 1)
      label += "[" + std::to_string(o.count) + "]";
    os << "  " << node << " [label=" << dot_quote(label) << "];\n";
    std::size_t nf = t.fields.size();
    for (std::uint64_t e = 0; e < o.count; ++e)
      for (std::size_t k = 0; k < nf; ++k)
        for_each_ref(img, o.values[e * nf + k], t.fields[k],
                     [&](std::uint64_t to) { reach(node, t.fields[k].name, to); });
  }
  if (edges_out)
    os << "  more [shape=note, label=" << dot_quote(std::to_string(edges_out) +
                                                     " more refs to objects beyond --max-nodes " +
                                                     std::to_string(max_nodes))
       << "];\n";
  os << "}\n";
  return os.str();
}

} // namespace checksync::cli
