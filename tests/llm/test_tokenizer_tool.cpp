// The C++ side of test_tokenizer_oracle.py: pre-tokenises or encodes lines of hex-encoded text
// with a vocabulary given in a plain file, and prints the result, so that the script can
// compare it with the reference libraries.
//
//   test_tokenizer_tool split PRE TEXTS     pieces of each text, hex, separated by spaces
//   test_tokenizer_tool encode VOCAB TEXTS  token ids of each text (no BOS/EOS, specials as text)
//
// VOCAB: line 1 the model ("llama" or "gpt2"), line 2 the pre-tokeniser, line 3 add_space_prefix
// (0 or 1), then "T HEX TYPE SCORE" per token in id order, "M HEX" per merge in rank order and
// optionally "U ID" for the unknown token.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tokenizer/pretokenize.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

std::string unhex(const std::string& h) {
    std::string s;
    for (size_t i = 0; i + 1 < h.size(); i += 2) s.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
    return s;
}

std::string hex(std::string_view s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

llm::VocabData read_vocab(const std::string& path) {
    std::ifstream in(path);
    llm::VocabData d;
    std::string line;
    std::getline(in, d.model);
    std::getline(in, d.pre);
    std::getline(in, line);
    d.add_space_prefix = line == "1";
    d.add_bos = false;
    while (std::getline(in, line)) {
        std::istringstream is(line);
        std::string kind, field;
        is >> kind >> field;
        if (kind == "T") {
            int32_t type = 1;
            float score = 0;
            is >> type >> score;
            d.tokens.push_back(unhex(field));
            d.token_types.push_back(type);
            d.scores.push_back(score);
        } else if (kind == "M") {
            d.merges.push_back(unhex(field));
        } else if (kind == "U") {
            d.unk = std::stoi(field);
        }
    }
    if (d.model == "gpt2") d.scores.clear();
    return d;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: test_tokenizer_tool split PRE TEXTS | encode VOCAB TEXTS\n";
        return 2;
    }
    try {
        const std::string mode = argv[1];
        std::ifstream texts(argv[3]);
        std::string line;
        if (mode == "split") {
            const auto pre = llm::pre_tokenizer_from_name(argv[2]);
            if (!pre) throw llm::TokenizerError(std::string("unknown pre-tokeniser ") + argv[2]);
            while (std::getline(texts, line)) {
                const std::string text = unhex(line);  // the pieces point into it
                const char* sep = "";
                for (const std::string_view p : llm::pre_tokenize(*pre, text)) std::cout << sep << hex(p), sep = " ";
                std::cout << '\n';
            }
            return 0;
        }
        const auto tok = llm::Tokenizer::create(read_vocab(argv[2]));
        while (std::getline(texts, line)) {
            const char* sep = "";
            for (const int32_t id : tok->encode(unhex(line), false, false)) std::cout << sep << id, sep = " ";
            std::cout << '\n';
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "test_tokenizer_tool: " << e.what() << '\n';
        return 1;
    }
}
