// The PTX reader's parser, private to ptxgen/src/reader*.cpp. reader.cpp reads the module, the
// entry and its declarations; reader_instr.cpp reads one instruction.
#pragma once

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ptxgen/ir.hpp"
#include "reader_lexer.hpp"

namespace ptxgen::ptx_reader {

// One operand as written, before its instruction says what the slot needs.
struct RawOperand {
    enum class Kind : uint8_t { reg, sreg, number, address, vector, name };
    Kind kind = Kind::reg;
    Token at;                // the first token: messages point here
    bool negated = false;    // reg: !%p0
    bool minus = false;      // number: -5
    uint32_t id = 0;         // reg: register id; sreg: SReg value
    Token text;              // reg, sreg: the register; number: the digits; name: the name; address: the base
    AddrBase base = AddrBase::none;
    int64_t offset = 0;      // address
    std::vector<uint32_t> elems;   // vector: register ids
    std::vector<Token> elem_at;
    bool has_pipe = false;   // shfl's d|p: the predicate after '|'
    uint32_t pipe_id = 0;
    Token pipe_at;
};

class Reader {
public:
    Reader(std::string_view text, std::string_view source);
    std::vector<Kernel> read_module();

private:
    // ---- tokens (reader.cpp) ----
    std::string_view source_;
    std::vector<Token> toks_;
    size_t pos_ = 0;  // the next token, comments included

    const Token& peek();  // the next token that is not a comment
    const Token& next();
    bool accept(char c);
    const Token& expect(char c, std::string_view where);
    const Token& expect_word(std::string_view w, std::string_view where);
    [[noreturn]] void fail(const Token& at, const std::string& message) const { fail_at(source_, at, message); }
    uint32_t read_u32(const Token& t, std::string_view what) const;
    uint32_t alignment();

    // ---- the module ----
    PtxVersion version_;
    Token version_at_;
    Target target_;
    std::vector<VarDecl> module_vars_;  // .extern .shared arrays, given to every later entry
    std::vector<std::string> entry_names_;
    void header();
    void extern_shared();
    Kernel entry();

    // ---- the entry being read ----
    struct Bank {  // the registers of one prefix: ids first .. first + count - 1
        Type type = Type::b32;
        uint32_t first = 0;
        uint32_t count = 0;
    };
    struct LabelSeen {  // in order of first appearance
        std::string name;
        bool bound = false;
        Token first_at;
    };
    Kernel k_;
    std::map<std::string, Bank, std::less<>> banks_;          // by prefix: "r", "rd"
    struct Symbol {
        bool is_param = false;
        uint32_t id = 0;  // parameter index or variable id
    };
    std::map<std::string, Symbol, std::less<>> symbols_;       // by printed name: param_x, tile
    std::map<std::string, uint32_t, std::less<>> label_ids_;
    std::vector<LabelSeen> labels_;

    void parameters();
    void performance_directive(std::array<uint32_t, 3>& into);
    void body();
    void register_declaration();
    void array_declaration(Space space);
    void label_statement();
    void pragma();
    Kernel finish_entry();
    void add_symbol(const Token& name, uint32_t id, bool is_param);
    void number_labels();
    void refine_parameter_types();
    void check_version(const Kernel& k) const;

    uint32_t register_id(const Token& t);   // %r3 -> id, or an error
    uint32_t label_ref(const Token& name);  // id by first appearance, created on the first one
    void push(const Instr& in, const Token& at);

    // ---- one instruction (reader_instr.cpp) ----
    std::string_view mnemonic_;  // of the instruction being read, for messages
    void instruction();
    RawOperand raw_operand();
    RawOperand raw_address(const Token& open);
    RawOperand raw_vector(const Token& open);
    int64_t offset_value(const Token& digits, bool minus) const;
    void convert(Instr& in, char slot_kind, const RawOperand& raw);
    void add(Instr& in, const Operand& o, const RawOperand& raw) const;
    Operand register_operand(const RawOperand& raw, bool may_negate) const;
    Operand immediate(const Instr& in, const RawOperand& raw) const;
    Operand address(const Instr& in, const RawOperand& raw);
    Operand vector(const Instr& in, const RawOperand& raw) const;
    Operand mov_source(const Instr& in, const RawOperand& raw);
};

}  // namespace ptxgen::ptx_reader
