// Byte encodings used on the wire, in key files and in the ledger:
// lowercase hex, and base64 (RFC 4648 section 4, padded, as C2SP signed
// notes and tlog checkpoints use it).
//
// Decoders are strict: they reject whitespace, wrong padding, non-canonical
// trailing bits and characters outside the alphabet, and say where.
// Thread safety: pure functions.
#ifndef CAIRN_RUNTIME_BASE_ENCODING_H_
#define CAIRN_RUNTIME_BASE_ENCODING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/statusor.h"

namespace cairn {

std::string HexEncode(std::string_view bytes);
// Accepts upper or lower case; an odd length or a non-hex character is
// InvalidArgument naming the offset.
StatusOr<std::string> HexDecode(std::string_view hex);
// An account (an Ed25519 public key) as written by people and specs: 64 hex
// digits, either case. Returns its 32 bytes, or InvalidArgument "account
// '<given>' is not 64 hex digits ..." (the given text cut to 80 bytes).
StatusOr<std::string> DecodeAccount(std::string_view hex);

std::string Base64Encode(std::string_view bytes);
StatusOr<std::string> Base64Decode(std::string_view b64);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_ENCODING_H_
