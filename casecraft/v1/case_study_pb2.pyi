from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Metric(_message.Message):
    __slots__ = ("label", "before", "after", "improvement", "before_value", "after_value", "unit", "change_percent", "lower_is_better")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    IMPROVEMENT_FIELD_NUMBER: _ClassVar[int]
    BEFORE_VALUE_FIELD_NUMBER: _ClassVar[int]
    AFTER_VALUE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    LOWER_IS_BETTER_FIELD_NUMBER: _ClassVar[int]
    label: str
    before: str
    after: str
    improvement: str
    before_value: float
    after_value: float
    unit: str
    change_percent: float
    lower_is_better: bool
    def __init__(self, label: _Optional[str] = ..., before: _Optional[str] = ..., after: _Optional[str] = ..., improvement: _Optional[str] = ..., before_value: _Optional[float] = ..., after_value: _Optional[float] = ..., unit: _Optional[str] = ..., change_percent: _Optional[float] = ..., lower_is_better: _Optional[bool] = ...) -> None: ...

class Phase(_message.Message):
    __slots__ = ("name", "period", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    period: str
    description: str
    def __init__(self, name: _Optional[str] = ..., period: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("text", "author", "role")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    text: str
    author: str
    role: str
    def __init__(self, text: _Optional[str] = ..., author: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class CaseStudy(_message.Message):
    __slots__ = ("client_name", "industry", "title", "subtitle", "metrics", "phases", "challenge", "solution", "results", "quote")
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUBTITLE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    PHASES_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    SOLUTION_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    client_name: str
    industry: str
    title: str
    subtitle: str
    metrics: _containers.RepeatedCompositeFieldContainer[Metric]
    phases: _containers.RepeatedCompositeFieldContainer[Phase]
    challenge: str
    solution: str
    results: str
    quote: Quote
    def __init__(self, client_name: _Optional[str] = ..., industry: _Optional[str] = ..., title: _Optional[str] = ..., subtitle: _Optional[str] = ..., metrics: _Optional[_Iterable[_Union[Metric, _Mapping]]] = ..., phases: _Optional[_Iterable[_Union[Phase, _Mapping]]] = ..., challenge: _Optional[str] = ..., solution: _Optional[str] = ..., results: _Optional[str] = ..., quote: _Optional[_Union[Quote, _Mapping]] = ...) -> None: ...

class SpanRecord(_message.Message):
    __slots__ = ("name", "service", "trace_id", "span_id", "parent_span_id", "start_unix_nano", "end_unix_nano", "error", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    START_UNIX_NANO_FIELD_NUMBER: _ClassVar[int]
    END_UNIX_NANO_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    service: str
    trace_id: str
    span_id: str
    parent_span_id: str
    start_unix_nano: int
    end_unix_nano: int
    error: bool
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., service: _Optional[str] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., parent_span_id: _Optional[str] = ..., start_unix_nano: _Optional[int] = ..., end_unix_nano: _Optional[int] = ..., error: _Optional[bool] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...
