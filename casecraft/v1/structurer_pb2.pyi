from casecraft.v1 import case_study_pb2 as _case_study_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FieldGroup(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIELD_GROUP_UNSPECIFIED: _ClassVar[FieldGroup]
    FIELD_GROUP_HEADLINE: _ClassVar[FieldGroup]
    FIELD_GROUP_METRICS: _ClassVar[FieldGroup]
    FIELD_GROUP_PHASES: _ClassVar[FieldGroup]
    FIELD_GROUP_NARRATIVE: _ClassVar[FieldGroup]

class CacheOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CACHE_OUTCOME_UNSPECIFIED: _ClassVar[CacheOutcome]
    CACHE_OUTCOME_MISS: _ClassVar[CacheOutcome]
    CACHE_OUTCOME_HIT: _ClassVar[CacheOutcome]
    CACHE_OUTCOME_BYPASS: _ClassVar[CacheOutcome]
FIELD_GROUP_UNSPECIFIED: FieldGroup
FIELD_GROUP_HEADLINE: FieldGroup
FIELD_GROUP_METRICS: FieldGroup
FIELD_GROUP_PHASES: FieldGroup
FIELD_GROUP_NARRATIVE: FieldGroup
CACHE_OUTCOME_UNSPECIFIED: CacheOutcome
CACHE_OUTCOME_MISS: CacheOutcome
CACHE_OUTCOME_HIT: CacheOutcome
CACHE_OUTCOME_BYPASS: CacheOutcome

class StructureOptions(_message.Message):
    __slots__ = ("fast", "fresh", "anonymize")
    FAST_FIELD_NUMBER: _ClassVar[int]
    FRESH_FIELD_NUMBER: _ClassVar[int]
    ANONYMIZE_FIELD_NUMBER: _ClassVar[int]
    fast: bool
    fresh: bool
    anonymize: bool
    def __init__(self, fast: _Optional[bool] = ..., fresh: _Optional[bool] = ..., anonymize: _Optional[bool] = ...) -> None: ...

class StructureRequest(_message.Message):
    __slots__ = ("notes", "options")
    NOTES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    notes: str
    options: StructureOptions
    def __init__(self, notes: _Optional[str] = ..., options: _Optional[_Union[StructureOptions, _Mapping]] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("provider", "model", "input_tokens", "output_tokens", "cost_usd", "attempts")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    attempts: int
    def __init__(self, provider: _Optional[str] = ..., model: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cost_usd: _Optional[float] = ..., attempts: _Optional[int] = ...) -> None: ...

class StructureResponse(_message.Message):
    __slots__ = ("case_study", "usage", "warnings", "spans", "needs_review", "cache", "fidelity", "anonymized")
    CASE_STUDY_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    NEEDS_REVIEW_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    FIDELITY_FIELD_NUMBER: _ClassVar[int]
    ANONYMIZED_FIELD_NUMBER: _ClassVar[int]
    case_study: _case_study_pb2.CaseStudy
    usage: Usage
    warnings: _containers.RepeatedScalarFieldContainer[str]
    spans: _containers.RepeatedCompositeFieldContainer[_case_study_pb2.SpanRecord]
    needs_review: _containers.RepeatedCompositeFieldContainer[ReviewItem]
    cache: CacheOutcome
    fidelity: Fidelity
    anonymized: bool
    def __init__(self, case_study: _Optional[_Union[_case_study_pb2.CaseStudy, _Mapping]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ..., spans: _Optional[_Iterable[_Union[_case_study_pb2.SpanRecord, _Mapping]]] = ..., needs_review: _Optional[_Iterable[_Union[ReviewItem, _Mapping]]] = ..., cache: _Optional[_Union[CacheOutcome, str]] = ..., fidelity: _Optional[_Union[Fidelity, _Mapping]] = ..., anonymized: _Optional[bool] = ...) -> None: ...

class ReviewItem(_message.Message):
    __slots__ = ("field", "reason")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    field: str
    reason: str
    def __init__(self, field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Fidelity(_message.Message):
    __slots__ = ("checked", "untraced")
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    UNTRACED_FIELD_NUMBER: _ClassVar[int]
    checked: int
    untraced: _containers.RepeatedCompositeFieldContainer[UntracedFigure]
    def __init__(self, checked: _Optional[int] = ..., untraced: _Optional[_Iterable[_Union[UntracedFigure, _Mapping]]] = ...) -> None: ...

class UntracedFigure(_message.Message):
    __slots__ = ("field", "text", "value")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    field: str
    text: str
    value: str
    def __init__(self, field: _Optional[str] = ..., text: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class FieldGroupReady(_message.Message):
    __slots__ = ("group", "partial")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    group: FieldGroup
    partial: _case_study_pb2.CaseStudy
    def __init__(self, group: _Optional[_Union[FieldGroup, str]] = ..., partial: _Optional[_Union[_case_study_pb2.CaseStudy, _Mapping]] = ...) -> None: ...

class StructureEvent(_message.Message):
    __slots__ = ("final", "field_groups")
    FINAL_FIELD_NUMBER: _ClassVar[int]
    FIELD_GROUPS_FIELD_NUMBER: _ClassVar[int]
    final: StructureResponse
    field_groups: _containers.RepeatedCompositeFieldContainer[FieldGroupReady]
    def __init__(self, final: _Optional[_Union[StructureResponse, _Mapping]] = ..., field_groups: _Optional[_Iterable[_Union[FieldGroupReady, _Mapping]]] = ...) -> None: ...

class RefineRequest(_message.Message):
    __slots__ = ("case_study", "section", "instruction", "notes", "options")
    CASE_STUDY_FIELD_NUMBER: _ClassVar[int]
    SECTION_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    case_study: _case_study_pb2.CaseStudy
    section: str
    instruction: str
    notes: str
    options: StructureOptions
    def __init__(self, case_study: _Optional[_Union[_case_study_pb2.CaseStudy, _Mapping]] = ..., section: _Optional[str] = ..., instruction: _Optional[str] = ..., notes: _Optional[str] = ..., options: _Optional[_Union[StructureOptions, _Mapping]] = ...) -> None: ...

class RefineResponse(_message.Message):
    __slots__ = ("case_study", "usage", "warnings", "changed", "spans", "fidelity", "anonymized")
    CASE_STUDY_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    FIDELITY_FIELD_NUMBER: _ClassVar[int]
    ANONYMIZED_FIELD_NUMBER: _ClassVar[int]
    case_study: _case_study_pb2.CaseStudy
    usage: Usage
    warnings: _containers.RepeatedScalarFieldContainer[str]
    changed: _containers.RepeatedScalarFieldContainer[str]
    spans: _containers.RepeatedCompositeFieldContainer[_case_study_pb2.SpanRecord]
    fidelity: Fidelity
    anonymized: bool
    def __init__(self, case_study: _Optional[_Union[_case_study_pb2.CaseStudy, _Mapping]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ..., changed: _Optional[_Iterable[str]] = ..., spans: _Optional[_Iterable[_Union[_case_study_pb2.SpanRecord, _Mapping]]] = ..., fidelity: _Optional[_Union[Fidelity, _Mapping]] = ..., anonymized: _Optional[bool] = ...) -> None: ...
