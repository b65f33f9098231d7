// wire.h - the primary-backup wire protocol (docs/protocol.md): framing,
// the messages, the HMAC handshake, and socket helpers.
//
// A frame is a 20-byte header and a payload:
//   u32 magic "CSW1" | u8 version | u8 type | u16 reserved (0) | u32 length |
//   u64 XXH3-64 over bytes 4..12 of the header and the payload
// all little-endian. Control messages are msgpack arrays. A checkpoint of any
// size travels as a CHECKPOINT head (epoch, previous epoch, kind, length)
// followed by CHUNK frames of at most chunk_bytes() of the file each, so no
// frame is large and heartbeats pass between chunks. After WELCOME every
// frame is sealed (session.h); heartbeats are answered by LEASE frames.
#ifndef CHECKSYNC_RT_WIRE_H
#define CHECKSYNC_RT_WIRE_H

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace checksync::detail::wire {

constexpr std::uint32_t kMagic = 0x31575343; // "CSW1"
// 2: checkpoints in chunks; 3: chain ids in WELCOME and CHECKPOINT, the
// refused epoch in ERROR; 4: every frame after WELCOME sealed (session.h).
constexpr std::uint8_t kVersion = 4;
constexpr std::size_t kTagBytes = 16; // a sealed payload's Poly1305 tag (session.h)
constexpr std::size_t kHeaderBytes = 20;
constexpr std::uint32_t kMaxPayload = 16u << 20;
constexpr std::uint32_t kChunkBytes = 4u << 20;
// The frame payload limit: kMaxPayload, or lower with the test knob
// CHECKSYNC_TEST_MAX_FRAME=BYTES (read once; both sides honour it), so tests
// ship checkpoints many times the limit at small sizes.
std::uint32_t max_payload();
// Checkpoint bytes per CHUNK frame: kChunkBytes, or less to fit max_payload().
std::size_t chunk_bytes();

enum class Type : std::uint8_t {
  Challenge = 1,    // backup -> primary: [version, nonce(32)]
  Auth = 2,         // primary -> backup: [nonce(32), generation, program, mac(32)]
  Welcome = 3,      // backup -> primary: [generation, durable epoch, its chain id, mac(32)]
  Checkpoint = 4,   // primary -> backup: u64 epoch, u64 prev epoch, u8 full, 7 x 0, u64 length,
                    // u64 chain id
  Ack = 5,          // backup -> primary: [epoch]: that epoch of the primary's chain is durable
  Heartbeat = 6,    // primary -> backup: u64 stamp (steady clock, us); answered by LEASE
  NeedFull = 7,     // backup -> primary: [durable epoch, reason]: send a full checkpoint
  Error = 8,        // either way: [code, message, epoch]; the sender closes the connection
  Chunk = 9,        // primary -> backup: u64 offset, then the next bytes of the checkpoint
  StatusQuery = 10, // operator -> backup, instead of AUTH: [nonce(32), mac(32)]
  Status = 11,      // backup -> operator: [status JSON, mac(32)]; then it closes
  Lease = 12,       // backup -> primary: [heartbeat stamp, takeover timeout ms (0: never)]
};
const char *type_name(Type t);

enum class ErrorCode : std::uint32_t {
  Auth = 1,     // wrong secret
  Fenced = 2,   // stale generation: a newer primary or a takeover replaced this one
  Protocol = 3, // malformed or unexpected frame
  Storage = 4,  // the backup could not store a checkpoint (e.g. disk full)
};

struct Frame {
  Type type{};
  std::string payload;
};

// Encodes a frame (header + payload).
std::string encode_frame(Type type, std::string_view payload);
// The same, for a payload already placed after kHeaderBytes of room at the
// front of `frame` (no copy): fills the header in.
std::string finish_frame(Type type, std::string frame);

// Parses one frame from the front of [data, data + n).
enum class Parse { Ok, NeedMore, Bad };
Parse parse_frame(const char *data, std::size_t n, Frame &out, std::size_t &consumed,
                  std::string &error);

// ---- Messages ----------------------------------------------------------------
using Nonce = std::array<unsigned char, 32>;
using Mac = std::array<unsigned char, 32>;

struct Challenge { std::uint32_t version; Nonce nonce; };
struct Auth { Nonce nonce; std::uint64_t generation; std::string program; Mac mac; };
// chain_id: ImageInfo::chain_id of the durable epoch (0: none), so a primary
// tells its own epochs from another run's with the same numbers.
struct Welcome { std::uint64_t generation; std::uint64_t durable; std::uint64_t chain_id; Mac mac; };
struct CheckpointHead {
  std::uint64_t epoch, prev_epoch;
  bool full;
  std::uint64_t bytes;
  std::uint64_t chain_id; // ImageInfo::chain_id of the checkpoint
};
struct NeedFull { std::uint64_t durable; std::string reason; };
// epoch: the checkpoint refused (Protocol: invalid, Storage: not stored), or 0.
struct ErrorMsg { ErrorCode code; std::string message; std::uint64_t epoch = 0; };
// `checksync-rt status HOST:PORT`: asks without taking part in fencing.
struct StatusQuery {
  Nonce nonce;
  Mac mac;
};
struct StatusReply {
  std::string json;
  Mac mac;
};
constexpr std::size_t kMaxStatusJson = 64 * 1024;

std::string encode(const Challenge &m);
std::string encode(const Auth &m);
std::string encode(const Welcome &m);
std::string encode_ack(std::uint64_t epoch);
// HEARTBEAT (primary -> backup) carries the primary's send time (steady
// clock, us); LEASE echoes it with the backup's takeover timeout: the backup
// will not take over before stamp + timeout (docs/protocol.md, "Leases").
struct Lease {
  std::uint64_t stamp_us;
  std::uint64_t takeover_ms; // 0: this backup never takes over
};
std::string encode_heartbeat(std::uint64_t stamp_us);
std::uint64_t decode_heartbeat(const std::string &p);
std::string encode(const Lease &m);
Lease decode_lease(const std::string &p);
std::string encode(const NeedFull &m);
std::string encode(const ErrorMsg &m);
std::string encode(const StatusQuery &m);
std::string encode(const StatusReply &m);
constexpr std::size_t kCheckpointHeadBytes = 40;
std::string encode_checkpoint_head(const CheckpointHead &h);
constexpr std::size_t kChunkHeadBytes = 8;
std::string encode_chunk_head(std::uint64_t offset);

// Decoders throw Error("malformed <what>") on anything unexpected.
Challenge decode_challenge(const std::string &p);
Auth decode_auth(const std::string &p);
Welcome decode_welcome(const std::string &p);
std::uint64_t decode_ack(const std::string &p);
NeedFull decode_need_full(const std::string &p);
ErrorMsg decode_error(const std::string &p);
StatusQuery decode_status_query(const std::string &p);
StatusReply decode_status(const std::string &p);
CheckpointHead decode_checkpoint(const std::string &p);
// The chunk's offset; `data` points at its bytes inside p (at least one).
std::uint64_t decode_chunk(const std::string &p, std::string_view &data);

// ---- Authentication (HMAC-SHA256, challenge-response both ways) ------------
Nonce random_nonce(); // throws Error if the system has no randomness
// The primary proves it knows the secret for (backup nonce, its nonce, gen).
Mac primary_mac(std::string_view secret, const Nonce &backup_nonce,
                const Nonce &primary_nonce, std::uint64_t generation);
// The backup proves it too, binding what it answers.
Mac backup_mac(std::string_view secret, const Nonce &primary_nonce, const Nonce &backup_nonce,
               std::uint64_t generation, std::uint64_t durable, std::uint64_t chain_id);
// A status query and its reply, each bound to both nonces (and the reply to
// its text), under labels of their own: neither can pass for the other or
// for a primary's or backup's proof.
Mac status_query_mac(std::string_view secret, const Nonce &backup_nonce,
                     const Nonce &operator_nonce);
Mac status_reply_mac(std::string_view secret, const Nonce &operator_nonce,
                     const Nonce &backup_nonce, std::string_view json);
bool mac_equal(const Mac &a, const Mac &b); // constant time

// ---- Sockets ---------------------------------------------------------------
// "HOST:PORT" (HOST may be a name, an IPv4 address or [IPv6]).
struct Endpoint { std::string host, port; };
Endpoint parse_endpoint(const std::string &s); // throws Error
// Returns a connected socket, or -1 with *error set.
int connect_to(const Endpoint &e, int timeout_ms, std::string *error);
// Returns a listening socket (SO_REUSEADDR); throws Error. *bound gets the
// actual address (useful with port 0).
int listen_on(const Endpoint &e, std::string *bound);
// "HOST:PORT" (numeric) of a socket's own end, or of its peer; "?" if unknown.
std::string socket_address(int fd, bool peer);

// Writes all of `bytes` (several buffers in one call), waiting while a
// non-blocking socket is full. False on error.
bool send_all(int fd, std::string_view a, std::string_view b = {});
bool send_frame(int fd, Type type, std::string_view payload);
// A frame whose payload is head + body, without copying body.
bool send_frame2(int fd, Type type, std::string_view head, std::string_view body);

// A frame written a piece at a time on a non-blocking socket, so the writer
// can do other things (read acknowledgements) while the peer is slow.
class Outgoing {
public:
  Outgoing() = default;
  // The payload is head + body; `keep` owns body's bytes until sent.
  Outgoing(Type type, std::string_view head, std::string_view body = {},
           std::shared_ptr<const std::string> keep = nullptr);
  // A whole frame, already encoded (a sealed one: Session::seal).
  explicit Outgoing(std::string frame) : prefix_(std::move(frame)) {}
  bool done() const { return sent_ == prefix_.size() + body_.size(); }
  enum class Result { Done, Blocked, Failed };
  Result send_some(int fd); // as much as the socket takes now

private:
  std::string prefix_; // frame header + head
  std::string_view body_;
  std::shared_ptr<const std::string> keep_;
  std::size_t sent_ = 0;
};

// Reads frames from a socket.
class Reader {
public:
  explicit Reader(int fd, std::string early = {}) : fd_(fd), buf_(std::move(early)) {}
  enum class Result { Frame, Timeout, Closed, Bad };
  // Waits up to timeout_ms in all (-1: forever) for one complete frame.
  Result next(Frame &out, int timeout_ms, std::string &error);
  // Bytes received so far: progress inside a frame is a sign of life too.
  std::uint64_t received() const { return received_; }

private:
  int fd_;
  std::string buf_;
  std::size_t start_ = 0;
  std::uint64_t received_ = 0;
};

} // namespace checksync::detail::wire

#endif
