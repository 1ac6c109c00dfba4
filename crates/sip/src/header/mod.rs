//! Typed header access. Each submodule decodes one header family from the raw value on
//! demand; values borrow from the message buffer.

pub mod name;
