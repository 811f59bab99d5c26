"""The retrieve tool: the right bundled document first, an index that follows file changes.

These tests embed with the real all-MiniLM-L6-v2, offline: through `/api/embed` of a gateway
over the embedded upstream (`all-minilm`, the path of every run) and in-process (`local`,
for tool use with no gateway). The conftest guard fails any test that leaves loopback.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.server import Gateway
from gateway.upstreams.embedded import EmbeddedUpstream
from tests.fake_ollama import FakeOllama
from tools import call_tool, get
from tools.embeddings import LOCAL, gateway_setting
from tools.retrieve import chunks, document_files, open_collection, search
from tools.workspace import INDEX_DIR, ToolContext

DOCS = Path(__file__).resolve().parents[1] / "scenarios" / "data" / "support_qa"

QUESTIONS = {
    "How long do I have to send my lamp back and get my money?": "docs/returns.md",
    "My lamp will not pair with my 5 GHz router": "docs/wifi_setup.md",
    "How many days does express delivery take?": "docs/shipping.md",
    "The lamp flickers after a year, is that covered?": "docs/warranty.md",
    "I forgot my password and cannot sign in": "docs/account.md",
    "Why was my card charged twice for one order?": "docs/billing.md",
}


@pytest.fixture(scope="module")
def minilm_gateway() -> Iterator[str]:
    """The `ollama:all-minilm@URL` setting of a gateway over the embedded upstream."""
    with Gateway(EmbeddedUpstream()) as gateway:
        yield gateway_setting(gateway.base_url)


@pytest.fixture(params=["gateway", "in-process"])
def setting(request: pytest.FixtureRequest, minilm_gateway: str) -> str:
    """Each embeddings route: the run's gateway `/api/embed`, and the in-process model."""
    return minilm_gateway if request.param == "gateway" else LOCAL


@pytest.fixture(scope="module")
def support_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled support docs copied into a workspace, indexed once for the module."""
    workspace = tmp_path_factory.mktemp("support") / "ws"
    shutil.copytree(DOCS, workspace)
    return workspace


@pytest.mark.parametrize(("question", "expected"), QUESTIONS.items())
def test_the_right_document_comes_first(
    support_workspace: Path, setting: str, question: str, expected: str
) -> None:
    """Each support question finds the document that answers it as the top hit, either route."""
    hits = search(support_workspace, question, k=3, setting=setting)
    assert hits[0].path == expected, [h.path for h in hits]


def test_each_embedder_keeps_its_own_index(support_workspace: Path, minilm_gateway: str) -> None:
    """The gateway's all-minilm and the in-process model index into separate collections."""
    search(support_workspace, "refund", setting=minilm_gateway)
    search(support_workspace, "refund", setting=LOCAL)
    names = {open_collection(support_workspace, s).name for s in (minilm_gateway, LOCAL)}
    assert names == {"docs-all-minilm", "docs-all-MiniLM-L6-v2"}


def test_a_gateway_without_the_model_is_a_tool_error_with_the_fix(tmp_path: Path) -> None:
    """When /api/embed has no all-minilm, the model is told to pull or install it."""
    (tmp_path / "pets.md").write_text("# Pets\n\nOur office dog is called Biscuit.")
    with FakeOllama([]) as server:
        context = ToolContext(tmp_path, gateway_setting(server.url))
        result = call_tool(get("retrieve"), {"query": "dog"}, context)
    assert result.error is not None and "ollama pull all-minilm" in result.error


def test_the_tool_returns_passages_under_their_file_names(
    support_workspace: Path, minilm_gateway: str
) -> None:
    """The model sees numbered passages, each headed by its file, and the index stays hidden."""
    context = ToolContext(support_workspace, minilm_gateway)
    result = call_tool(get("retrieve"), {"query": "refund", "k": 1}, context)
    assert result.error is None
    assert result.result.startswith("[1] docs/returns.md\n# Returns and refunds")
    assert (support_workspace / INDEX_DIR / "chroma").is_dir()
    assert all(not p.startswith(INDEX_DIR) for p in document_files(support_workspace))


def test_the_index_follows_added_changed_and_deleted_files(tmp_path: Path) -> None:
    """A new file is found, an edited file is found by its new text only, a deleted one never."""
    (tmp_path / "pets.md").write_text("# Pets\n\nOur office dog is called Biscuit.")
    (tmp_path / "food.md").write_text("# Lunch\n\nThe canteen serves pasta on Fridays.")
    assert search(tmp_path, "What is the name of the dog?", k=1)[0].path == "pets.md"
    (tmp_path / "trains.md").write_text("# Trains\n\nThe night train to Vienna leaves at 22:10.")
    assert search(tmp_path, "When does the night train leave?", k=1)[0].path == "trains.md"
    (tmp_path / "pets.md").write_text("# Pets\n\nThe office cat is called Pixel.")
    hit = search(tmp_path, "What is the office cat called?", k=1)[0]
    assert hit.path == "pets.md" and "Pixel" in hit.text and "Biscuit" not in hit.text
    (tmp_path / "trains.md").unlink()
    paths = [h.path for h in search(tmp_path, "night train to Vienna", k=5)]
    assert "trains.md" not in paths and sorted(paths) == ["food.md", "pets.md"]


def test_files_behind_symlinks_and_hidden_files_are_not_indexed(tmp_path: Path) -> None:
    """Documents reached through a symlink out of the workspace, or hidden, are never searched."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("The vault code is 4242.")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "linked").symlink_to(outside)
    (workspace / "secret.md").symlink_to(outside / "secret.md")
    (workspace / ".hidden.md").write_text("Hidden vault code 1111.")
    (workspace / "plain.md").write_text("Opening hours are nine to five.")
    assert list(document_files(workspace)) == ["plain.md"]


def test_an_empty_workspace_is_an_error_for_the_model(tmp_path: Path) -> None:
    """Searching a workspace with no documents tells the model so instead of failing the run."""
    result = call_tool(get("retrieve"), {"query": "anything"}, ToolContext(tmp_path))
    assert result.error == "there are no documents in the workspace to search"


def test_chunks_follow_headings_and_size() -> None:
    """Chunks start at headings and never exceed the chunk size."""
    text = "# A\n\nalpha\n\n# B\n\nbeta\n\n" + "long words " * 200
    pieces = chunks(text, size=300)
    assert pieces[0] == "# A\n\nalpha" and pieces[1].startswith("# B\n\nbeta")
    assert all(len(p) <= 300 for p in pieces)


class EmbeddingOllama(FakeOllama):
    """A scripted Ollama that also answers /api/embed with bag-of-words vectors."""

    def __init__(self) -> None:
        super().__init__([], models=["all-minilm"])
        self.embedded: list[str] = []

    def app(self) -> Starlette:
        """The fake's routes plus /api/embed."""
        app = super().app()
        app.router.routes.append(Route("/api/embed", self._embed, methods=["POST"]))
        return app

    async def _embed(self, request: Request) -> JSONResponse:
        body = await request.json()
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        self.embedded.extend(texts)
        return JSONResponse({"model": body["model"], "embeddings": [_bag(t) for t in texts]})


def _bag(text: str) -> list[float]:
    vector = [0.0] * 32
    for word in text.lower().split():
        vector[sum(map(ord, word.strip(".,?!#"))) % 32] += 1.0
    norm = sum(v * v for v in vector) ** 0.5 or 1.0
    return [v / norm for v in vector]


def test_ollama_embeddings_go_to_the_named_server(tmp_path: Path) -> None:
    """`ollama:MODEL@URL` embeds through that server's /api/embed, in its own collection."""
    (tmp_path / "pets.md").write_text("# Pets\n\nOur office dog is called Biscuit.")
    (tmp_path / "food.md").write_text("# Lunch\n\nThe canteen serves pasta on Fridays.")
    with EmbeddingOllama() as server:
        hits = search(
            tmp_path, "office dog Biscuit", k=1, setting=f"ollama:all-minilm@{server.url}"
        )
    assert hits[0].path == "pets.md"
    assert "office dog Biscuit" in server.embedded and len(server.embedded) == 3
    assert len(list((tmp_path / INDEX_DIR / "chroma").iterdir())) >= 1
