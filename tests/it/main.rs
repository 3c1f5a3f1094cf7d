//! Every integration test in one crate (one link of bollard, ratatui and tokio instead of one
//! per file); `support` holds the shared homes, engines, terminals and readers.

mod support;

mod checklist_apply;
mod cli_apply;
mod completions_man_version;
mod conformance_openclaw;
mod crash;
mod desktop_fixtures;
mod detect_cli;
mod detect_engines;
mod detect_failures;
mod detect_fixtures;
mod detect_prereqs;
mod detect_select;
mod e2e;
mod edges;
mod engine_named;
mod front_ends;
mod gateway_service_env;
mod gateway_view;
mod image_build;
mod layers;
mod ledger_cli;
mod manners;
mod npm_package;
mod plain_pty;
mod plan_props;
mod podman_cli;
mod policy_openclaw;
mod posture;
mod screenshots;
mod secrets_mask;
mod secrets_move;
mod sweep_noop;
mod tui_e2e;
mod tui_image_gauge;
mod tui_props;
mod tui_snapshots;
mod tui_update;
mod verify_live;
mod verify_openclaw;
mod verify_static;
