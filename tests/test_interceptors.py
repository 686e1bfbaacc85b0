"""WrapsEachMethod: a method's handler is wrapped on its first call and the wrapper reused."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from casecraft.interceptors import WrapsEachMethod


class Counting(WrapsEachMethod):
    def __init__(self) -> None:
        super().__init__()
        self.wrapped: list[str] = []

    def wrap(self, method: str, handler: Any) -> Any:
        self.wrapped.append(method)
        return ("wrapped", handler)


class Details:
    def __init__(self, method: str) -> None:
        self.method = method


def ask(interceptor: WrapsEachMethod, method: str, handler: Any) -> Any:
    async def continuation(details: grpc.HandlerCallDetails) -> Any:
        return handler

    return asyncio.run(interceptor.intercept_service(continuation, Details(method)))  # type: ignore[arg-type]


def test_each_method_is_wrapped_once_and_the_wrapper_reused() -> None:
    interceptor, handler = Counting(), object()

    first = ask(interceptor, "/a.A/One", handler)
    again = ask(interceptor, "/a.A/One", handler)
    other = ask(interceptor, "/a.A/Two", handler)

    assert first == ("wrapped", handler) and again is first
    assert other is not first
    assert interceptor.wrapped == ["/a.A/One", "/a.A/Two"]


def test_a_new_handler_for_a_method_is_wrapped_anew() -> None:
    interceptor, old, new = Counting(), object(), object()

    ask(interceptor, "/a.A/One", old)

    assert ask(interceptor, "/a.A/One", new) == ("wrapped", new)
    assert interceptor.wrapped == ["/a.A/One", "/a.A/One"]


def test_an_unknown_method_stays_unknown() -> None:
    interceptor = Counting()

    assert ask(interceptor, "/a.A/Missing", None) is None
    assert interceptor.wrapped == []
