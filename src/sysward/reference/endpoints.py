"""Example `[llm.NAME]` sections for the servers operators run, shown in docs/configuration.md.

Each example is a complete `sysward.toml`; tests/reference/test_configuration.py
validates every one with the daemon's own parser, so an example cannot rot.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EndpointExample:
    """One server: how to start it, and the config that talks to it."""

    title: str
    notes: str
    toml: str


EXAMPLES = (
    EndpointExample(
        "Ollama",
        "`ollama serve` listens on 127.0.0.1:11434 and needs no key. Native tool calls "
        "work with models whose template supports tools (Qwen 2.5, Llama 3.1+); a "
        "CPU-only host needs a generous timeout.",
        """[llm.default]
base_url = "http://127.0.0.1:11434/v1"
model = "qwen2.5:7b-instruct"
tool_calls = "native"
timeout_s = 300

[agents.ops]
role = "sysadmin"
""",
    ),
    EndpointExample(
        "vLLM",
        '`vllm serve Qwen/Qwen2.5-7B-Instruct --api-key "$VLLM_API_KEY" '
        "--enable-auto-tool-choice --tool-call-parser hermes` (the parser must fit the "
        "model: `hermes` for Qwen, `llama3_json` for Llama 3.1). Without those two flags "
        'vLLM refuses `tools`; use `tool_calls = "json"` then.',
        """[llm.default]
base_url = "http://127.0.0.1:8000/v1"
model = "Qwen/Qwen2.5-7B-Instruct"
api_key_env = "VLLM_API_KEY"
tool_calls = "native"

[agents.ops]
role = "sysadmin"
""",
    ),
    EndpointExample(
        "llama.cpp server",
        "`llama-server -m qwen2.5-7b-instruct-q4_k_m.gguf --jinja --port 8080`. `--jinja` "
        "applies the model's chat template, which native tool calls need; without it use "
        '`tool_calls = "json"`. The server answers with the model it loaded, whatever '
        "`model` says.",
        """[llm.default]
base_url = "http://127.0.0.1:8080/v1"
model = "qwen2.5-7b-instruct"
tool_calls = "native"
timeout_s = 300

[agents.ops]
role = "sysadmin"
""",
    ),
    EndpointExample(
        "OpenAI",
        "Keep the key out of the config: with the packaged unit, put it in "
        "`/etc/sysward/credentials/llm` (mode 0600) and systemd hands it to the daemon "
        "as a credential (`LoadCredential=`). `api_key_env` works too, for a key in the "
        "service's environment.",
        """[llm.default]
base_url = "https://api.openai.com/v1"
model = "gpt-4o-mini"
api_key_file = "/run/credentials/sysward.service/llm"

[agents.ops]
role = "sysadmin"
""",
    ),
    EndpointExample(
        "LiteLLM proxy",
        "`litellm --config litellm.yaml` listens on port 4000; `model` is a `model_name` "
        "from its `model_list`, the key one of its virtual keys (or the master key). "
        "Several named endpoints let agents use different backends through it.",
        """[llm.default]
base_url = "http://127.0.0.1:4000/v1"
model = "gpt-4o-mini"
api_key_env = "LITELLM_API_KEY"

[llm.local]
base_url = "http://127.0.0.1:4000/v1"
model = "ollama-qwen"
api_key_env = "LITELLM_API_KEY"
tool_calls = "json"

[agents.ops]
role = "sysadmin"

[agents.watcher]
role = "default"
llm = "local"
""",
    ),
)


def render_examples() -> str:
    parts = ["\n## Endpoint examples\n"]
    for example in EXAMPLES:
        parts.append(f"\n### {example.title}\n\n{example.notes}\n\n```toml\n{example.toml}```\n")
    return "".join(parts)
