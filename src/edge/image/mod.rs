//! Building the sandbox image on the engine the Gateway uses: [`engine`] (which engine, what it
//! holds) and [`build`] (build, prove, tag). The recipe and the judgements are
//! `domain::image`; the `image` subcommand is `front::image_args`.

pub mod build;
pub mod engine;
