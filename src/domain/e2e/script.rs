//! The scripted model: what clawposture's loopback "model" answers to each chat-completions
//! request OpenClaw sends during a probe turn. Pure: a request body in, the server-sent events
//! out. A turn that calls one tool is two requests: the first (no tool result yet) is answered
//! with one streamed tool call, the second (the tool result is in the messages) with a short
//! text, which ends the turn.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The provider and model names written into the throwaway config.
pub const PROVIDER: &str = "clawposture-e2e";
pub const MODEL: &str = "probe";

/// What the model did for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Action {
    /// Called `exec` with the probe command (exec was offered).
    CallExec,
    /// `exec` was not offered: asked the generic `tool_call` tool to run `exec` anyway.
    ForceExec,
    /// Neither was offered: answered with text only.
    NoTool,
    /// The tool result was back: ended the turn.
    Finish,
}

/// The names of the tools a request offers the model (the ground truth of what it may call).
pub fn tool_names(request: &Value) -> Vec<String> {
    request
        .get("tools")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    t.pointer("/function/name")
                        .or_else(|| t.get("name"))
                        .and_then(Value::as_str)
                })
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The text of the last tool result in the request's messages, if any.
pub fn tool_result(request: &Value) -> Option<String> {
    let msgs = request.get("messages")?.as_array()?;
    let last = msgs
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("tool"))?;
    Some(content_text(last.get("content")?))
}

fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str).or_else(|| p.as_str()))
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

/// The schema of a tool's parameters, by name.
fn parameters<'a>(request: &'a Value, name: &str) -> Option<&'a Value> {
    request.get("tools")?.as_array()?.iter().find_map(|t| {
        let f = t.get("function").unwrap_or(t);
        (f.get("name").and_then(Value::as_str) == Some(name))
            .then(|| f.get("parameters"))
            .flatten()
    })
}

/// The arguments for `exec`: the probe under the parameter the schema calls the command.
fn exec_arguments(request: &Value, command: &str) -> Value {
    let key = parameters(request, "exec")
        .and_then(|p| p.get("properties"))
        .and_then(Value::as_object)
        .and_then(|props| {
            ["command", "cmd", "script"]
                .into_iter()
                .find(|k| props.contains_key(*k))
        })
        .unwrap_or("command");
    json!({ key: command })
}

/// The arguments for a forced `tool_call` of `exec`: the tool id, and the probe under every
/// argument-carrying property the schema has (its name differs between versions).
fn forced_arguments(request: &Value, command: &str) -> Value {
    let mut args = serde_json::Map::new();
    args.insert("id".into(), json!("exec"));
    let props = parameters(request, "tool_call")
        .and_then(|p| p.get("properties"))
        .and_then(Value::as_object);
    let mut placed = false;
    if let Some(props) = props {
        for k in ["args", "arguments", "input", "params", "parameters"] {
            if props.contains_key(k) {
                args.insert(k.into(), json!({ "command": command }));
                placed = true;
            }
        }
    }
    if !placed {
        args.insert("args".into(), json!({ "command": command }));
    }
    Value::Object(args)
}

/// What to do with a request.
pub fn decide(request: &Value) -> Action {
    if tool_result(request).is_some() {
        return Action::Finish;
    }
    let tools = tool_names(request);
    if tools.iter().any(|t| t == "exec") {
        Action::CallExec
    } else if tools.iter().any(|t| t == "tool_call") {
        Action::ForceExec
    } else {
        Action::NoTool
    }
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-clawposture-e2e",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    })
}

fn tool_call(name: &str, arguments: &Value) -> Vec<Value> {
    vec![
        chunk(json!({"role": "assistant", "content": null}), None),
        chunk(
            json!({"tool_calls": [{
                "index": 0,
                "id": "call_clawposture_probe",
                "type": "function",
                "function": {"name": name, "arguments": arguments.to_string()},
            }]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
    ]
}

fn text(t: &str) -> Vec<Value> {
    vec![
        chunk(json!({"role": "assistant", "content": t}), None),
        chunk(json!({}), Some("stop")),
    ]
}

/// The server-sent-events body answering `request` (each element one `data:` event, the
/// usage chunk and `[DONE]` included).
pub fn respond(request: &Value, action: &Action, command: &str) -> Vec<String> {
    let mut events = match action {
        Action::CallExec => tool_call("exec", &exec_arguments(request, command)),
        Action::ForceExec => tool_call("tool_call", &forced_arguments(request, command)),
        Action::NoTool => text("No tool to run the probe with."),
        Action::Finish => text("Probe done."),
    };
    events.push(json!({
        "id": "chatcmpl-clawposture-e2e",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": MODEL,
        "choices": [],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }));
    let mut out: Vec<String> = events.iter().map(Value::to_string).collect();
    out.push("[DONE]".to_string());
    out
}

/// The model provider block added to the throwaway config (`models.providers.<PROVIDER>`).
pub fn provider(base_url: &str) -> Value {
    json!({
        "baseUrl": base_url,
        "apiKey": "clawposture-e2e-not-a-secret",
        "api": "openai-completions",
        "models": [{
            "id": MODEL,
            "name": "clawposture scripted probe",
            "reasoning": false,
            "input": ["text"],
            "contextWindow": 128000,
            "maxTokens": 4096,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(tools: &[&str], with_result: bool) -> Value {
        let mut messages = vec![json!({"role": "user", "content": "probe"})];
        if with_result {
            messages.push(json!({"role": "tool", "tool_call_id": "x", "content": [{"type": "text", "text": "CPE2E begin"}]}));
        }
        json!({
            "stream": true,
            "messages": messages,
            "tools": tools.iter().map(|t| json!({"type": "function", "function": {"name": t, "parameters": {"type": "object", "properties": {"command": {"type": "string"}, "args": {"type": "object"}}}}})).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn exec_is_called_when_offered_and_forced_when_not() {
        assert_eq!(decide(&req(&["read", "exec"], false)), Action::CallExec);
        assert_eq!(
            decide(&req(&["tool_call", "tool_search"], false)),
            Action::ForceExec
        );
        assert_eq!(decide(&req(&["message"], false)), Action::NoTool);
        assert_eq!(decide(&req(&["exec"], true)), Action::Finish);
        assert_eq!(
            tool_result(&req(&["exec"], true)).as_deref(),
            Some("CPE2E begin")
        );
    }

    #[test]
    fn the_tool_call_streams_its_arguments_as_a_json_string() {
        let r = req(&["exec"], false);
        let ev = respond(&r, &Action::CallExec, "echo hi");
        assert_eq!(ev.last().map(String::as_str), Some("[DONE]"));
        let call: Value = serde_json::from_str(&ev[1]).expect("json");
        let f = &call["choices"][0]["delta"]["tool_calls"][0]["function"];
        assert_eq!(f["name"], "exec");
        let args: Value =
            serde_json::from_str(f["arguments"].as_str().expect("string")).expect("args");
        assert_eq!(args, json!({"command": "echo hi"}));
        let end: Value = serde_json::from_str(&ev[2]).expect("json");
        assert_eq!(end["choices"][0]["finish_reason"], "tool_calls");
    }

    #[test]
    fn a_forced_call_names_exec() {
        let r = req(&["tool_call"], false);
        let ev = respond(&r, &Action::ForceExec, "echo hi");
        let call: Value = serde_json::from_str(&ev[1]).expect("json");
        let f = &call["choices"][0]["delta"]["tool_calls"][0]["function"];
        assert_eq!(f["name"], "tool_call");
        let args: Value =
            serde_json::from_str(f["arguments"].as_str().expect("string")).expect("args");
        assert_eq!(args["id"], "exec");
        assert_eq!(args["args"]["command"], "echo hi");
    }
}
