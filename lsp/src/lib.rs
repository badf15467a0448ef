//! The fledge language server (see issue 4); not built yet.
