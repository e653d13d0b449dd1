#include "tokenizer/stream_decoder.hpp"

#include "tokenizer/unicode.hpp"

namespace llm {

std::string StreamDecoder::feed(int32_t id) {
    if (!tokenizer_.is_control(id) || render_special_) pending_ += tokenizer_.token_bytes(id);
    std::string out;
    size_t pos = 0;
    while (pos < pending_.size()) {
        const unicode::Decoded d = unicode::decode_utf8(pending_, pos);
        if (d.status == unicode::Decoded::Status::truncated) break;  // the rest may still come
        if (d.status == unicode::Decoded::Status::ok) {
            out.append(pending_, pos, d.length);
        } else {
            unicode::append_utf8(out, 0xFFFD);
        }
        pos += d.length;
    }
    pending_.erase(0, pos);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out = unicode::to_valid_utf8(pending_);
    pending_.clear();
    return out;
}

}  // namespace llm
