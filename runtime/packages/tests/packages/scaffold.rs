//! `plugin new` writes a crate that packs.
