from casecraft.v1 import case_study_pb2 as _case_study_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Component(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPONENT_UNSPECIFIED: _ClassVar[Component]
    COMPONENT_HERO: _ClassVar[Component]
    COMPONENT_METRICS: _ClassVar[Component]
    COMPONENT_TIMELINE: _ClassVar[Component]

class ImageStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_STATUS_UNSPECIFIED: _ClassVar[ImageStatus]
    IMAGE_STATUS_OK: _ClassVar[ImageStatus]
    IMAGE_STATUS_FAILED: _ClassVar[ImageStatus]
    IMAGE_STATUS_TIMED_OUT: _ClassVar[ImageStatus]
    IMAGE_STATUS_NOT_CACHED: _ClassVar[ImageStatus]
COMPONENT_UNSPECIFIED: Component
COMPONENT_HERO: Component
COMPONENT_METRICS: Component
COMPONENT_TIMELINE: Component
IMAGE_STATUS_UNSPECIFIED: ImageStatus
IMAGE_STATUS_OK: ImageStatus
IMAGE_STATUS_FAILED: ImageStatus
IMAGE_STATUS_TIMED_OUT: ImageStatus
IMAGE_STATUS_NOT_CACHED: ImageStatus

class HeroData(_message.Message):
    __slots__ = ("client_name", "industry", "title", "subtitle")
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUBTITLE_FIELD_NUMBER: _ClassVar[int]
    client_name: str
    industry: str
    title: str
    subtitle: str
    def __init__(self, client_name: _Optional[str] = ..., industry: _Optional[str] = ..., title: _Optional[str] = ..., subtitle: _Optional[str] = ...) -> None: ...

class MetricsData(_message.Message):
    __slots__ = ("client_name", "metrics")
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    client_name: str
    metrics: _containers.RepeatedCompositeFieldContainer[_case_study_pb2.Metric]
    def __init__(self, client_name: _Optional[str] = ..., metrics: _Optional[_Iterable[_Union[_case_study_pb2.Metric, _Mapping]]] = ...) -> None: ...

class TimelineData(_message.Message):
    __slots__ = ("client_name", "phases")
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    PHASES_FIELD_NUMBER: _ClassVar[int]
    client_name: str
    phases: _containers.RepeatedCompositeFieldContainer[_case_study_pb2.Phase]
    def __init__(self, client_name: _Optional[str] = ..., phases: _Optional[_Iterable[_Union[_case_study_pb2.Phase, _Mapping]]] = ...) -> None: ...

class ImageOptions(_message.Message):
    __slots__ = ("width", "height", "fast", "accent_color")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FAST_FIELD_NUMBER: _ClassVar[int]
    ACCENT_COLOR_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    fast: bool
    accent_color: str
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., fast: _Optional[bool] = ..., accent_color: _Optional[str] = ...) -> None: ...

class ImageJob(_message.Message):
    __slots__ = ("job_id", "hero", "metrics", "timeline", "prompt", "reference_image", "reference_media_type", "options", "timeout_ms", "bypass_cache", "cache_only")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    HERO_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_IMAGE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    BYPASS_CACHE_FIELD_NUMBER: _ClassVar[int]
    CACHE_ONLY_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    hero: HeroData
    metrics: MetricsData
    timeline: TimelineData
    prompt: str
    reference_image: bytes
    reference_media_type: str
    options: ImageOptions
    timeout_ms: int
    bypass_cache: bool
    cache_only: bool
    def __init__(self, job_id: _Optional[str] = ..., hero: _Optional[_Union[HeroData, _Mapping]] = ..., metrics: _Optional[_Union[MetricsData, _Mapping]] = ..., timeline: _Optional[_Union[TimelineData, _Mapping]] = ..., prompt: _Optional[str] = ..., reference_image: _Optional[bytes] = ..., reference_media_type: _Optional[str] = ..., options: _Optional[_Union[ImageOptions, _Mapping]] = ..., timeout_ms: _Optional[int] = ..., bypass_cache: _Optional[bool] = ..., cache_only: _Optional[bool] = ...) -> None: ...

class ImageJobs(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[ImageJob]
    def __init__(self, jobs: _Optional[_Iterable[_Union[ImageJob, _Mapping]]] = ...) -> None: ...

class ImageResults(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ImageResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ImageResult, _Mapping]]] = ...) -> None: ...

class ImageResult(_message.Message):
    __slots__ = ("job_id", "component", "status", "image", "media_type", "width", "height", "sha256", "provider", "model", "cache_hit", "attempts", "error", "spans")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CACHE_HIT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    component: Component
    status: ImageStatus
    image: bytes
    media_type: str
    width: int
    height: int
    sha256: str
    provider: str
    model: str
    cache_hit: bool
    attempts: int
    error: str
    spans: _containers.RepeatedCompositeFieldContainer[_case_study_pb2.SpanRecord]
    def __init__(self, job_id: _Optional[str] = ..., component: _Optional[_Union[Component, str]] = ..., status: _Optional[_Union[ImageStatus, str]] = ..., image: _Optional[bytes] = ..., media_type: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., sha256: _Optional[str] = ..., provider: _Optional[str] = ..., model: _Optional[str] = ..., cache_hit: _Optional[bool] = ..., attempts: _Optional[int] = ..., error: _Optional[str] = ..., spans: _Optional[_Iterable[_Union[_case_study_pb2.SpanRecord, _Mapping]]] = ...) -> None: ...
