// inspect.cpp - `checksync-rt inspect`: what a checkpoint holds, for humans
// (default) and tools (--json).
#include "commands.h"
#include "inspect_view.h"

#include "format/codec_rt.h"
#include "store/chain.h"
#include "format/format.h"
#include "store/store.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <sstream>

namespace checksync::cli {

bool valid_utf8(const char *p, std::size_t n) {
  for (std::size_t i = 0; i < n;) {
    auto c = (unsigned char)p[i];
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n)
      return false;
    std::uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (std::size_t k = 1; k < len; ++k) {
      auto d = (unsigned char)p[i + k];
      if ((d >> 6) != 2)
        return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static const std::uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return false;
    i += len;
  }
  return true;
}

bool bytes_as_text(const char *p, std::size_t n, std::string &text) {
  std::size_t end = n;
  while (end > 0 && p[end - 1] == 0)
    --end;
  if (end == 0 || !valid_utf8(p, end))
    return false;
  for (std::size_t i = 0; i < end; ++i)
    if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
      return false;
  text.assign(p, end);
  return true;
}

std::string hex_text(const char *p, std::size_t n) {
  static const char *digits = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[(unsigned char)p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string time_text(std::uint64_t ms) {
  std::time_t t = std::time_t(ms / 1000);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {
using namespace checksync::detail;

std::string quote(const char *p, std::size_t n) {
  std::string o = "\"";
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      o += '\\';
      o += char(c);
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      o += b;
    } else {
      o += char(c);
    }
  }
  return o + "\"";
}

void render_ref(std::ostream &os, std::uint64_t id, std::uint64_t off) {
  os << "#" << id << (off ? "+" + std::to_string(off) : "");
}

// A library value as its codec wrote it: no schema, refs are ext values.
void render_generic(std::ostream &os, const msgpack::object &v) {
  switch (v.type) {
  case msgpack::type::NIL: os << "null"; return;
  case msgpack::type::BOOLEAN: os << (v.via.boolean ? "true" : "false"); return;
  case msgpack::type::POSITIVE_INTEGER: os << v.via.u64; return;
  case msgpack::type::NEGATIVE_INTEGER: os << v.via.i64; return;
  case msgpack::type::FLOAT32:
  case msgpack::type::FLOAT64: os << v.via.f64; return;
  case msgpack::type::STR: os << quote(v.via.str.ptr, v.via.str.size); return;
  case msgpack::type::BIN: {
    std::string text;
    if (bytes_as_text(v.via.bin.ptr, v.via.bin.size, text)) {
      os << quote(text.data(), text.size());
      return;
    }
    os << "0x" << hex_text(v.via.bin.ptr, v.via.bin.size);
    return;
  }
  case msgpack::type::ARRAY:
    os << "[";
    for (std::uint32_t i = 0; i < v.via.array.size; ++i) {
      os << (i ? ", " : "");
      render_generic(os, v.via.array.ptr[i]);
    }
    os << "]";
    return;
  case msgpack::type::MAP:
    os << "{";
    for (std::uint32_t i = 0; i < v.via.map.size; ++i) {
      os << (i ? ", " : "");
      render_generic(os, v.via.map.ptr[i].key);
      os << ": ";
      render_generic(os, v.via.map.ptr[i].val);
    }
    os << "}";
    return;
  case msgpack::type::EXT: {
    std::uint64_t id, off;
    if (parse_codec_ref(v, id, off))
      render_ref(os, id, off);
    else if (parse_node(v, id))
      os << "node:" << std::hex << id << std::dec; // a container node (docs/iterators.md)
    else
      os << "ext";
    return;
  }
  default:
    os << "?";
  }
}

// Renders a validated value of a schema field; refs as "#id".
void render(std::ostream &os, const msgpack::object &v, const Field &f,
            const std::vector<Type> &types, bool element = false) {
  if (f.kind == CHECKSYNC_FIELD_CODEC && (element || f.count == 1))
    return render_generic(os, v);
  if (!element && f.count != 1) {
    if (v.type == msgpack::type::BIN)
      return render_generic(os, v);
    os << "[";
    for (std::uint32_t i = 0; i < v.via.array.size; ++i) {
      if (i)
        os << ", ";
      render(os, v.via.array.ptr[i], f, types, true);
    }
    os << "]";
    return;
  }
  if (f.kind == CHECKSYNC_FIELD_REF && v.type == msgpack::type::POSITIVE_INTEGER)
    return render_ref(os, v.via.u64, 0);
  if (f.kind == CHECKSYNC_FIELD_REF && v.type == msgpack::type::ARRAY)
    return render_ref(os, v.via.array.ptr[0].via.u64, v.via.array.ptr[1].via.u64);
  if (v.type == msgpack::type::ARRAY && f.kind == CHECKSYNC_FIELD_RECORD) {
    const Type &t = types[size_t(f.target)];
    os << "{";
    for (size_t i = 0; i < t.fields.size(); ++i) {
      os << (i ? ", " : "") << t.fields[i].name << "=";
      render(os, v.via.array.ptr[i], t.fields[i], types);
    }
    os << "}";
    return;
  }
  render_generic(os, v);
}

// The view's summary numbers: objects and bytes per type, what was written
// and what the heap held beyond it.
void count(InspectView &view) {
  const Image &img = *view.img;
  view.counts.resize(img.types.size());
  for (auto &o : img.objects) {
    view.counts[o.type].objects++;
    view.counts[o.type].bytes += o.count * img.types[o.type].size;
    view.written_bytes += o.count * img.types[o.type].size;
  }
  const ImageInfo &in = img.info;
  view.written = img.objects.size();
  view.garbage = in.live_objects > view.written ? in.live_objects - view.written : 0;
  view.garbage_bytes =
      in.live_bytes > view.written_bytes ? in.live_bytes - view.written_bytes : 0;
  if (img.parts.empty())
    view.files.push_back(&img);
  for (auto &p : img.parts)
    view.files.push_back(p.get());
}

void render_files(std::ostream &os, const InspectView &v) {
  if (!v.stored.empty()) {
    os << "directory " << v.path << ": " << v.stored.size() << " checkpoint(s), epochs";
    for (auto &s : v.stored)
      os << " " << s.epoch;
    os << "\n";
  }
  os << "checkpoints read:\n";
  for (const Image *f : v.files)
    os << "  epoch " << f->info.epoch << " " << f->info.kind << ": " << f->file_bytes
       << (f->compressed ? " bytes (zstd), " : " bytes, ") << f->info.stats.objects
       << " objects (" << f->info.stats.payload_bytes << " payload bytes), " << f->freed.size()
       << " freed, pause " << f->info.stats.pause_us << " us, "
       << f->info.stats.pages_touched << " pages touched, " << f->info.stats.dirty_pages
       << " dirty pages, schema " << schema_fingerprint(f->types) << "\n";
  if (!v.note.empty())
    os << "note: " << v.note << "\n";
}

void render_state(std::ostream &os, const InspectView &v) {
  const Image &img = *v.img;
  const ImageInfo &in = img.info;
  os << "state at epoch " << in.epoch << " (" << v.path << ")\n"
     << "  " << time_text(in.created_ms) << ", program " << in.program << ", schema "
     << schema_fingerprint(img.types) << "\n"
     << "  " << img.file_bytes << " bytes on disk for " << v.written << " objects of "
     << v.written_bytes << " bytes\n"
     << "  heap at checkpoint: " << in.live_objects << " live objects (" << in.live_bytes
     << " bytes); unreachable, not written: " << v.garbage << " objects (" << v.garbage_bytes
     << " bytes)\n"
     << "types:\n";
  for (size_t i = 0; i < img.types.size(); ++i)
    os << "  " << img.types[i].name << " (size " << img.types[i].size << "): "
       << v.counts[i].objects << " objects, " << v.counts[i].bytes << " bytes\n";
  os << "roots:\n";
  for (auto &r : img.roots) {
    os << "  " << r.root.name << " = ";
    render(os, *r.value, r.root.field, img.types);
    os << "\n";
  }
}

void render_objects(std::ostream &os, const Image &img) {
  os << "objects:\n";
  for (const DecodedObject &o : img.objects) {
    const Type &t = img.types[o.type];
    os << "  #" << o.id << " " << t.name;
    if (o.count != 1)
      os << "[" << o.count << "]";
    os << "\n";
    for (std::uint64_t e = 0; e < o.count; ++e)
      for (size_t k = 0; k < t.fields.size(); ++k) {
        os << "    ";
        if (o.count != 1)
          os << "[" << e << "].";
        os << t.fields[k].name << " = ";
        render(os, o.values[e * t.fields.size() + k], t.fields[k], img.types);
        os << "\n";
      }
  }
}

} // namespace

int run_inspect(const InspectOptions &opts) {
  InspectView view;
  view.path = opts.path;
  view.objects = opts.objects;
  std::unique_ptr<Image> img;
  try {
    std::error_code ec;
    if (std::filesystem::is_directory(opts.path, ec)) {
      view.stored = list_checkpoints(opts.path);
      img = load_chain(opts.path, &view.note);
    } else {
      img = parse_image(read_whole_file(opts.path), opts.path);
      if (img->info.kind == "full")
        validate_image(*img, opts.path);
    }
  } catch (const Error &e) {
    std::fprintf(stderr, "checksync-rt inspect: %s\n", e.what());
    return 2;
  }
  view.img = img.get();
  count(view);
  if (opts.dot) {
    std::fputs(inspect_dot(view, opts.max_nodes).c_str(), stdout);
    return 0;
  }
  if (opts.json) {
    std::fputs(inspect_json(view).c_str(), stdout);
    return 0;
  }
  std::ostringstream os;
  render_files(os, view);
  render_state(os, view);
  if (opts.objects)
    render_objects(os, *img);
  std::fputs(os.str().c_str(), stdout);
  return 0;
}

} // namespace checksync::cli
