"""Editors' images of an exercise: attach (multipart upload), list, read, remove; and each file
and thumbnail served by its content hash, immutable."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import Response

from app.api.admin import expected_version
from app.api.auth import EditorKey
from app.api.dependencies import (
    CatalogueDep,
    RuntimeDep,
    client_address,
    current_catalogue,
    runtime_of,
)
from app.api.params import JSON, SlugPath
from app.api.response_headers import RATE_LIMIT_HEADERS, header, location
from app.api.routing import StrictQueryRoute, media_type_of
from app.api.schemas import MediaList, MediaRecord
from app.content.images import FILE_FIELD
from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    FieldError,
    InvalidParametersError,
    add_answer_headers,
    field_error,
    malformed_body,
    problem_responses,
    unsupported_media_type,
)
from app.domain.exercise import MEDIA_ID_PATTERN, SHA256_PATTERN, Attribution
from app.domain.vocabulary import IMAGE_EXTENSIONS, ImageType, License

IMMUTABLE = "public, max-age=31536000, immutable"
MULTIPART = "multipart/form-data"
BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
ATTRIBUTION_FIELDS = ("license", "author", "source_url", "alt")
UPLOAD_PATH_PATTERN = r"/v1/exercises/[^/]+/media"
UPLOAD_OVERHEAD_BYTES = 64 * 1024
"""What a multipart body may carry besides its file: the boundaries and the text fields."""


class ImageRoute(StrictQueryRoute):
    produces = (*ImageType, PROBLEM_MEDIA_TYPE)


router = APIRouter(prefix="/v1", tags=["exercises"], route_class=StrictQueryRoute)
image_router = APIRouter(prefix="/v1", tags=["exercises"], route_class=ImageRoute)

MediaIdPath = Annotated[
    str,
    Path(
        pattern=MEDIA_ID_PATTERN,
        description="The image's `id`.",
        examples=["3f1b0c1e4a7d"],
    ),
]
Sha256Path = Annotated[
    str,
    Path(
        pattern=SHA256_PATTERN,
        description="The SHA-256 of the file, as its `url` carries it.",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    ),
]
ExtensionPath = Annotated[
    str,
    Path(
        pattern="^(" + "|".join(IMAGE_EXTENSIONS.values()) + ")$",
        description="The file's extension, as its `url` carries it.",
        examples=["jpg"],
    ),
]
OptionalIfMatch = Annotated[
    str | None,
    Header(
        description='The exercise\'s version this change applies to, as its ETag (e.g. `"3"`): '
        "412 when the exercise has moved on. Without it, the change applies to the current "
        "version.",
        examples=['"3"'],
    ),
]
LICENSES = ", ".join(f"`{item.value}`" for item in License)
UPLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [FILE_FIELD, *ATTRIBUTION_FIELDS],
    "properties": {
        FILE_FIELD: {
            "type": "string",
            "format": "binary",
            "description": "A JPEG, PNG or WebP image.",
        },
        "license": {
            "type": "string",
            "enum": [item.value for item in License],
            "description": "The image's licence, as an SPDX id.",
        },
        "author": {"type": "string", "minLength": 1, "maxLength": 200},
        "source_url": {"type": "string", "format": "uri", "maxLength": 2000},
        "alt": {"type": "string", "minLength": 1, "maxLength": 1000},
    },
}
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503)


async def if_match_version(if_match: str | None, slug: str, request: Request) -> int | None:
    """The version a media write is conditional on (None: the current one)."""
    if if_match is None:
        return None
    content = runtime_of(request).content
    return await run_in_threadpool(expected_version, if_match, slug, content)


async def upload_parts(request: Request, max_file_bytes: int) -> tuple[bytes, Attribution]:
    """The multipart body's file and attribution; 415 for another body, 422 naming each
    missing or invalid field (all of them at once)."""
    content_type = request.headers.get("content-type")
    if media_type_of(content_type) != MULTIPART:
        raise unsupported_media_type(content_type, (MULTIPART,))
    try:
        form = await request.form(max_files=1, max_fields=len(ATTRIBUTION_FIELDS) + 2)
    except HTTPException as error:  # Starlette's answer to a body python-multipart refuses
        raise malformed_body(f"The multipart body cannot be read: {error.detail}") from None
    try:
        errors: list[FieldError] = []
        upload = form.get(FILE_FIELD)
        data = b""
        if not isinstance(upload, UploadFile):
            errors.append(
                FieldError(location="body", field=FILE_FIELD, message="a file is required")
            )
        else:
            data = await upload.read(max_file_bytes + 1)
        values = {
            name: value for name in ATTRIBUTION_FIELDS if isinstance(value := form.get(name), str)
        }
        attribution: Attribution | None = None
        try:
            attribution = Attribution.model_validate(values)
        except ValidationError as invalid:
            errors += [field_error({**e, "loc": ("body", *e["loc"])}) for e in invalid.errors()]
        if errors or attribution is None:
            names = ", ".join(dict.fromkeys(error.field for error in errors))
            raise InvalidParametersError(
                f"{len(errors)} field(s) of the upload are missing or invalid: {names}. Each of "
                f"file, license ({LICENSES}), author, source_url and alt is required.",
                errors,
            )
        return data, attribution
    finally:
        await form.close()


@router.post(
    "/exercises/{slug}/media",
    status_code=201,
    response_model=None,
    summary="Attach an image to an exercise",
    description="A JPEG, PNG or WebP (`multipart/form-data`: `file`, with its `license` (one of "
    f"{LICENSES}), `author`, `source_url` and `alt`, all required). The image is decoded and "
    "encoded afresh: every metadata (EXIF with any GPS position, XMP, comments, ICC profile) "
    "is removed, it is turned upright and converted to sRGB, scaled down to the largest "
    "served size, and a thumbnail is made. Refused: not an image (415), over the size or "
    "pixel limits (413, checked before decoding), truncated, animated, or carrying anything "
    "besides the image (422), each naming `file`. Attaching is an edit of the exercise: a new "
    "version (optionally under If-Match), an entry in the changes feed and the audit trail. "
    "Needs an editor or admin key.",
    responses={
        201: {
            "model": MediaRecord,
            "headers": {
                "Location": location(
                    "The image's record.", "/v1/exercises/cat-stretch/media/3f1b0c1e4a7d"
                ),
                **RATE_LIMIT_HEADERS,
            },
        },
        **WRITE_ERRORS,
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {MULTIPART: {"schema": UPLOAD_SCHEMA}}}
    },
)
async def attach_media(
    request: Request,
    slug: SlugPath,
    caller: EditorKey,
    runtime: RuntimeDep,
    if_match: OptionalIfMatch = None,
) -> Response:
    budget = await runtime.rate_limits.spend_media_upload(client_address(request))
    if budget is not None:
        add_answer_headers(request, budget.headers())
    media = runtime.media
    data, attribution = await upload_parts(request, media.limits.max_bytes)
    version = await if_match_version(if_match, slug, request)
    attached = await media.attach(slug, data, attribution, version, caller.name)
    headers = {"Location": f"/v1/exercises/{slug}/media/{attached.record['id']}"}
    return Response(orjson.dumps(attached.record), 201, headers, media_type=JSON)


@router.get(
    "/exercises/{slug}/media",
    response_model=None,
    summary="List an exercise's images",
    description="The images editors attached to the published exercise, each with its "
    "licence, author, source, alt text, size and the URLs of its file and thumbnail. The "
    "ETag is the exercise's version (send it as If-Match to attach or remove under it).",
    responses={200: {"model": MediaList}, **problem_responses(400, 404, 422, 503)},
)
async def list_media(slug: SlugPath, catalogue: CatalogueDep, runtime: RuntimeDep) -> Response:
    version, items = runtime.media.listing(catalogue, slug)
    body = orjson.dumps({"slug": slug, "version": version, "items": items})
    return Response(body, media_type=JSON, headers={"ETag": f'"{version}"'})


@router.get(
    "/exercises/{slug}/media/{media_id}",
    response_model=None,
    summary="Get one of an exercise's images",
    description="The image's record (the file itself is at its `url`).",
    responses={200: {"model": MediaRecord}, **problem_responses(400, 404, 422, 503)},
)
async def get_media(
    slug: SlugPath, media_id: MediaIdPath, catalogue: CatalogueDep, runtime: RuntimeDep
) -> Response:
    version, record = runtime.media.record(catalogue, slug, media_id)
    return Response(orjson.dumps(record), media_type=JSON, headers={"ETag": f'"{version}"'})


@router.delete(
    "/exercises/{slug}/media/{media_id}",
    status_code=204,
    response_model=None,
    summary="Remove an image from an exercise",
    description="An edit of the exercise (a new version, optionally under If-Match, an entry in "
    "the changes feed and the audit trail). The file is deleted: its URL answers 404 from now "
    "on. Needs an editor or admin key.",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 422, 503),
)
async def remove_media(
    request: Request,
    slug: SlugPath,
    media_id: MediaIdPath,
    caller: EditorKey,
    runtime: RuntimeDep,
    if_match: OptionalIfMatch = None,
) -> Response:
    version = await if_match_version(if_match, slug, request)
    await run_in_threadpool(runtime.media.remove, slug, media_id, version, caller.name)
    return Response(status_code=204)


async def image_response(
    request: Request, sha256: str, extension: str, thumbnail: bool
) -> Response:
    media = runtime_of(request).media
    image = await media.image(current_catalogue(request), sha256, extension, thumbnail)
    headers = {"ETag": image.etag, "Cache-Control": IMMUTABLE, **UPLOADED_CONTENT_HEADERS}
    return Response(image.body, media_type=image.content_type, headers=headers)


UPLOADED_CONTENT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "cross-origin",
}
"""What a file someone uploaded is served with: only ever as the image it is (no browser sniffs
it into something else, and opened on its own it may run nothing), shown by any origin's app."""
IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, never changing: cache it for good.",
        "headers": {
            "X-Content-Type-Options": header("Always `nosniff`.", "nosniff", required=True),
            "Content-Security-Policy": header(
                "Always `default-src 'none'; sandbox`: opened on its own, the file runs nothing.",
                "default-src 'none'; sandbox",
                required=True,
            ),
            "Cross-Origin-Resource-Policy": header(
                "Always `cross-origin`: any origin's app may show it.",
                "cross-origin",
                required=True,
            ),
        },
        "content": {item.value: BINARY for item in ImageType},
    },
    **problem_responses(400, 404, 422, 503),
}


@image_router.get(
    "/media/{sha256}.{extension}",
    summary="Get an image file",
    description="An exercise's image, as a record's `url` names it by the SHA-256 of its bytes: "
    "what a URL names never changes (`immutable`). 404 unless a published exercise lists it.",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
async def get_image(request: Request, sha256: Sha256Path, extension: ExtensionPath) -> Response:
    return await image_response(request, sha256, extension, thumbnail=False)


@image_router.get(
    "/media/{sha256}/thumbnail.{extension}",
    summary="Get an image's thumbnail",
    description="The image scaled down (its longer side at most MEDIA_THUMBNAIL_SIZE pixels, "
    "320 by default), in the image's own format; immutable like the image.",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
async def get_thumbnail(request: Request, sha256: Sha256Path, extension: ExtensionPath) -> Response:
    return await image_response(request, sha256, extension, thumbnail=True)


router.routes.extend(image_router.routes)
