"""The error catalogue: every code the hub sends or receives, one row each.

Services raise ``HubError(Problem.X)``: what went wrong, in the hub's own words. Each
API family answers it in its own envelope with the row that ``lookup(family, problem)``
finds here, never by matching words in a message. Rows whose ``problem`` is None are
codes the hub only receives (from exocr) or sends as a success.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    """An API family: the envelope and code vocabulary of one or two specs."""

    PLATFORM = "platform"  # 000 ocrSync, 001 invoice/create: resCode
    PLATFORM_INVOICE = "platform_invoice"  # 000/001: data.invoice_message_code
    MAYCUR = "maycur"  # 002 import-invoice-pic: errorCode
    EXOCR = "exocr"  # 003 verify_invoice: error_code (the call)
    EXOCR_RESULT = "exocr_result"  # 003 verify_invoice: result.result_code (the check)
    YIPIAOYUN = "yipiaoyun"  # 004 identify: code


class Problem(StrEnum):
    """What went wrong, independent of any wire format."""

    INVALID_REQUEST = "invalid_request"
    UNAUTHORISED = "unauthorised"
    FORBIDDEN = "forbidden"  # a known key outside its role (fapiao.api.roles)
    NOT_FOUND = "not_found"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"
    UPSTREAM_UNAVAILABLE = "upstream_unavailable"
    BUSY = "busy"  # every container of the function is busy: try again shortly
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    REQUEST_IN_PROGRESS = "request_in_progress"
    DUPLICATE_INVOICE = "duplicate_invoice"
    UNKNOWN_EMPLOYEE = "unknown_employee"
    UNKNOWN_EXPENSE = "unknown_expense"
    EXPENSE_LOCKED = "expense_locked"
    UNRECOGNISABLE = "unrecognisable"
    FILE_TOO_LARGE = "file_too_large"
    FILE_UNREACHABLE = "file_unreachable"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"  # the request's Content-Type
    # spec 001's rules: the request is refused, nothing is stored
    ONE_INVOICE_ONLY = "one_invoice_only"
    RECOGNITION_FAILED = "recognition_failed"
    UNKNOWN_INVOICE_TYPE = "unknown_invoice_type"
    CHECK_REQUIRED = "check_required"
    CHECK_TYPE_MISMATCH = "check_type_mismatch"
    CHECK_OF_ANOTHER_INVOICE = "check_of_another_invoice"
    RECEIPT_DATE_REQUIRED = "receipt_date_required"
    TYPE_FIELD_REQUIRED = "type_field_required"
    REMARK_TOO_LONG = "remark_too_long"
    UNSUPPORTED_CURRENCY = "unsupported_currency"
    TAX_MISMATCH = "tax_mismatch"
    RECEIPT_DATE_IN_FUTURE = "receipt_date_in_future"
    NEGATIVE_TOTAL = "negative_total"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    # outcomes of one invoice: stored with its status and this message
    CHECK_FAILED = "check_failed"
    INVOICE_VOID = "invoice_void"
    INVOICE_RED_LETTER = "invoice_red_letter"
    TITLE_MISMATCH = "title_mismatch"
    CHECK_MISMATCH = "check_mismatch"  # what was read disagrees with the tax authority
    TOO_OLD_TO_CHECK = "too_old_to_check"
    INVOICE_IRREGULAR = "invoice_irregular"  # an offline rule refused a printed field
    # the file's signature, with the company's verify_file_signatures on (issue 15)
    FILE_TAMPERED = "file_tampered"  # a signed digest or signature does not match
    FILE_MODIFIED_AFTER_SIGNING = "file_modified_after_signing"  # bytes added after signing
    FILE_SIGNED_BY_TEST_CA = "file_signed_by_test_ca"  # a tax test CA's: not a real invoice
    # why an invoice is C (not checked yet) or I (not a type the tax authority checks)
    AWAITING_COMPLETION = "awaiting_completion"  # read too incompletely to check
    CHECK_DEFERRED = "check_deferred"  # the provider was busy or unreachable
    CHECK_TOMORROW = "check_tomorrow"  # issued today: the tax authority answers tomorrow
    DAILY_CHECK_LIMIT = "daily_check_limit"  # 5 checks of this invoice today
    NO_VERIFIER = "no_verifier"  # no provider is configured
    NOT_CHECKED_TYPE = "not_checked_type"  # taxi, train, quota ...: recognized (I)
    # the ERP's webhooks (issue 19)
    WEBHOOK_URL_REFUSED = "webhook_url_refused"  # not https, or not a public address


@dataclass(frozen=True)
class CatalogueEntry:
    family: Family
    code: str  # as on the wire (numbers written as text; the envelope decides the type)
    http_status: int
    message: str
    retryable: bool  # can the same request succeed later?
    problem: Problem | None = None  # None: received from upstream, or success
    source: str = "hub"  # the spec that defines the code, or "hub" for the hub's own


E = CatalogueEntry
F = Family
P = Problem

CATALOGUE: tuple[CatalogueEntry, ...] = (
    # 000/001 resCode: 200000 is the specs'; the appendix ("见附录") is not in the seeds,
    # so the error codes are the hub's: HTTP status x 1000.
    E(F.PLATFORM, "200000", 200, "success", False, None, "000/001"),
    E(F.PLATFORM, "400000", 400, "请求参数错误", False, P.INVALID_REQUEST),
    E(F.PLATFORM, "401000", 401, "未授权的调用", False, P.UNAUTHORISED),
    E(F.PLATFORM, "403000", 403, "无权调用该接口", False, P.FORBIDDEN),
    E(F.PLATFORM, "404000", 404, "记录不存在", False, P.NOT_FOUND),
    E(F.PLATFORM, "409000", 409, "bizId 已用于另一请求", False, P.IDEMPOTENCY_CONFLICT),
    E(F.PLATFORM, "409001", 409, "同一 bizId 的请求正在处理", True, P.REQUEST_IN_PROGRESS),
    E(F.PLATFORM, "413000", 413, "文件超过大小限制", False, P.FILE_TOO_LARGE),
    E(F.PLATFORM, "413001", 413, "请求体超过大小限制", False, P.PAYLOAD_TOO_LARGE),
    E(F.PLATFORM, "415000", 415, "文件类型不支持", False, P.UNSUPPORTED_FILE_TYPE),
    E(F.PLATFORM, "415001", 415, "请求的 Content-Type 不支持", False, P.UNSUPPORTED_MEDIA_TYPE),
    E(F.PLATFORM, "422000", 422, "文件无法访问", False, P.FILE_UNREACHABLE),
    E(F.PLATFORM, "422001", 422, "回调地址不可用", False, P.WEBHOOK_URL_REFUSED),
    E(F.PLATFORM, "429000", 429, "请求过于频繁", True, P.RATE_LIMITED),
    E(F.PLATFORM, "500000", 500, "系统内部错误", True, P.INTERNAL),
    E(F.PLATFORM, "503000", 503, "查验服务暂不可用", True, P.UPSTREAM_UNAVAILABLE),
    E(F.PLATFORM, "503001", 503, "系统繁忙,请稍后重试", True, P.BUSY),
    # 001's rules that refuse a request (nothing stored): 4001xx, the field named in resMsg.
    E(F.PLATFORM, "400101", 400, "只接受一张发票", False, P.ONE_INVOICE_ONLY, "001"),
    E(F.PLATFORM, "400102", 400, "识别未成功(result 须为 1)", False, P.RECOGNITION_FAILED, "001"),
    E(F.PLATFORM, "400103", 400, "发票类型不支持", False, P.UNKNOWN_INVOICE_TYPE, "001"),
    E(F.PLATFORM, "400104", 400, "增值税发票需要查验结果", False, P.CHECK_REQUIRED, "001"),
    E(F.PLATFORM, "400105", 400, "识别与查验的发票类型不一致", False, P.CHECK_TYPE_MISMATCH, "001"),
    E(F.PLATFORM, "400106", 400, "查验结果不是这张发票的", False, P.CHECK_OF_ANOTHER_INVOICE),
    E(F.PLATFORM, "400107", 400, "开票日期必填", False, P.RECEIPT_DATE_REQUIRED, "001"),
    E(F.PLATFORM, "400108", 400, "该票据类型的必填字段缺失", False, P.TYPE_FIELD_REQUIRED, "001"),
    E(F.PLATFORM, "400109", 400, "备注超过1024个字符", False, P.REMARK_TOO_LONG, "001"),
    E(F.PLATFORM, "400110", 400, "币种不支持", False, P.UNSUPPORTED_CURRENCY, "001"),
    E(F.PLATFORM, "400111", 400, "金额、税额与价税合计不符", False, P.TAX_MISMATCH, "001"),
    E(F.PLATFORM, "400112", 400, "开票日期晚于今天", False, P.RECEIPT_DATE_IN_FUTURE),
    E(F.PLATFORM, "400113", 400, "蓝字发票的价税合计不能为负", False, P.NEGATIVE_TOTAL),
    E(F.PLATFORM, "400114", 400, "金额超出发票可能的范围", False, P.AMOUNT_OUT_OF_RANGE),
    # 000/001 data.invoice_message_code: the outcome of one invoice (HTTP 200, status F).
    E(F.PLATFORM_INVOICE, "907002", 200, "发票已导入", False, P.DUPLICATE_INVOICE, "000/001"),
    E(F.PLATFORM_INVOICE, "907001", 200, "发票查验失败", False, P.CHECK_FAILED),
    E(F.PLATFORM_INVOICE, "907003", 200, "发票已作废", False, P.INVOICE_VOID),
    E(F.PLATFORM_INVOICE, "907004", 200, "发票已红冲", False, P.INVOICE_RED_LETTER),
    E(F.PLATFORM_INVOICE, "907005", 200, "发票抬头与公司不符", False, P.TITLE_MISMATCH),
    E(F.PLATFORM_INVOICE, "907006", 200, "发票无法识别", False, P.UNRECOGNISABLE),
    E(F.PLATFORM_INVOICE, "907007", 200, "识别结果与查验结果不一致", False, P.CHECK_MISMATCH),
    E(F.PLATFORM_INVOICE, "907008", 200, "开票日期超过五年,无法查验", False, P.TOO_OLD_TO_CHECK),
    E(F.PLATFORM_INVOICE, "907009", 200, "发票信息不规范", False, P.INVOICE_IRREGULAR),
    E(
        F.PLATFORM_INVOICE,
        "907016",
        200,
        "发票文件签名验证失败,文件已被篡改",
        False,
        P.FILE_TAMPERED,
    ),
    E(
        F.PLATFORM_INVOICE,
        "907017",
        200,
        "发票文件签名后被修改",
        False,
        P.FILE_MODIFIED_AFTER_SIGNING,
    ),
    E(
        F.PLATFORM_INVOICE,
        "907018",
        200,
        "发票文件由税务测试证书签名,不是正式发票",
        False,
        P.FILE_SIGNED_BY_TEST_CA,
    ),
    # status C: not checked yet, and why; status I: a type the tax authority does not check
    E(F.PLATFORM_INVOICE, "907010", 200, "发票信息不全,补全后查验", False, P.AWAITING_COMPLETION),
    E(
        F.PLATFORM_INVOICE,
        "907011",
        200,
        "查验服务暂不可用,稍后自动重新查验",
        True,
        P.CHECK_DEFERRED,
    ),
    E(F.PLATFORM_INVOICE, "907012", 200, "当日开具的发票次日查验", True, P.CHECK_TOMORROW),
    E(
        F.PLATFORM_INVOICE,
        "907013",
        200,
        "该发票今日查验次数已满,次日重新查验",
        True,
        P.DAILY_CHECK_LIMIT,
    ),
    E(F.PLATFORM_INVOICE, "907014", 200, "未配置查验服务,发票待查验", False, P.NO_VERIFIER),
    E(F.PLATFORM_INVOICE, "907015", 200, "该类票据税务机关不提供查验", False, P.NOT_CHECKED_TYPE),
    # 002 Maycur errorCode: the spec's, plus the hub's for what 002 does not name.
    E(F.MAYCUR, "ACK", 200, "success", False, None, "002"),
    E(F.MAYCUR, "AUTH0007", 404, "员工不存在", False, P.UNKNOWN_EMPLOYEE, "002"),
    E(F.MAYCUR, "EXPENSE_ERR_13", 404, "费用不存在", False, P.UNKNOWN_EXPENSE, "002"),
    E(
        F.MAYCUR,
        "EXPENSE_ERR_58",
        409,
        "费用关联的报销单为非可编辑状态",
        False,
        P.EXPENSE_LOCKED,
        "002",
    ),
    E(F.MAYCUR, "INV20006", 422, "传入的文件无法识别", False, P.UNRECOGNISABLE, "002"),
    E(F.MAYCUR, "INV20002", 409, "发票无法保存", False, P.DUPLICATE_INVOICE, "002"),
    E(F.MAYCUR, "INV30109", 413, "发票文件超过 8M", False, P.FILE_TOO_LARGE, "002"),
    E(F.MAYCUR, "INV30002", 422, "发票文件无法访问", False, P.FILE_UNREACHABLE, "002"),
    E(F.MAYCUR, "INV30104", 415, "发票文件类型错误", False, P.UNSUPPORTED_FILE_TYPE, "002"),
    E(F.MAYCUR, "HUB40000", 400, "请求参数错误", False, P.INVALID_REQUEST),
    E(F.MAYCUR, "HUB40100", 401, "未授权的调用", False, P.UNAUTHORISED),
    E(F.MAYCUR, "HUB40300", 403, "无权调用该接口", False, P.FORBIDDEN),
    E(F.MAYCUR, "HUB40400", 404, "记录不存在", False, P.NOT_FOUND),
    E(F.MAYCUR, "HUB41300", 413, "请求体超过大小限制", False, P.PAYLOAD_TOO_LARGE),
    E(F.MAYCUR, "HUB41500", 415, "请求的 Content-Type 不支持", False, P.UNSUPPORTED_MEDIA_TYPE),
    E(F.MAYCUR, "HUB42900", 429, "请求过于频繁,限流 2 次/秒", True, P.RATE_LIMITED),
    E(F.MAYCUR, "HUB50000", 500, "系统内部错误", True, P.INTERNAL),
    E(F.MAYCUR, "HUB50300", 503, "查验服务暂不可用", True, P.UPSTREAM_UNAVAILABLE),
    E(F.MAYCUR, "HUB50301", 503, "系统繁忙,请稍后重试", True, P.BUSY),
    # 003 exocr error_code: the call. Received from exocr, and sent by the hub's own
    # verify endpoint for the same situations.
    E(F.EXOCR, "0", 200, "调用成功", False, None, "003"),
    E(
        F.EXOCR,
        "3202",
        502,
        "发票查验操作异常(调用上游接口出现异常)",
        True,
        P.UPSTREAM_UNAVAILABLE,
        "003",
    ),
    E(F.EXOCR, "3204", 400, "发票代码格式错误", False, None, "003"),
    E(F.EXOCR, "3207", 400, "5年以前开具的发票无法查询", False, None, "003"),
    E(F.EXOCR, "3210", 400, "普票后六位校验码不能为空", False, None, "003"),
    E(F.EXOCR, "3213", 502, "查验异常(查验通道网络原因)", True, None, "003"),
    E(F.EXOCR, "4001", 400, "参数非法,请重试", False, P.INVALID_REQUEST, "003"),
    E(
        F.EXOCR,
        "4002",
        401,
        "授权验证未通过,请检查appKey与appSecret是否正确",
        False,
        P.UNAUTHORISED,
        "003",
    ),
    E(F.EXOCR, "4007", 503, "服务器忙,请重试", True, P.INTERNAL, "003"),
    E(F.EXOCR, "4007", 503, "服务器忙,请重试", True, P.BUSY, "003"),  # 003's own "busy"
    E(F.EXOCR, "4030", 403, "无权调用该接口", False, P.FORBIDDEN),
    E(F.EXOCR, "4290", 429, "请求过于频繁", True, P.RATE_LIMITED),
    E(F.EXOCR, "4130", 413, "请求体超过大小限制", False, P.PAYLOAD_TOO_LARGE),
    # 003 exocr result_code: the check. 2 (daily cap) is deferred, not retried at once.
    E(F.EXOCR_RESULT, "1", 200, "查验成功", False, None, "003"),
    E(F.EXOCR_RESULT, "2", 200, "超过该张票当天查验次数", True, None, "003"),
    E(F.EXOCR_RESULT, "6", 200, "查验成功发票不一致", False, None, "003"),
    E(F.EXOCR_RESULT, "7", 200, "查验异常(查验通道网络原因)", True, None, "003"),
    E(F.EXOCR_RESULT, "8", 200, "发票查验操作异常(调用上游接口出现异常)", True, None, "003"),
    E(F.EXOCR_RESULT, "9", 200, "所查发票不存在", False, None, "003"),
    E(F.EXOCR_RESULT, "105", 200, "查询发票不规范", False, None, "003"),
    # 004 yipiaoyun code: 0 success, -1 any error with its message; HTTP status tells which.
    E(F.YIPIAOYUN, "0", 200, "success", False, None, "004"),
    E(F.YIPIAOYUN, "-1", 400, "请求参数错误", False, P.INVALID_REQUEST, "004"),
    E(F.YIPIAOYUN, "-1", 401, "未授权的调用", False, P.UNAUTHORISED, "004"),
    E(F.YIPIAOYUN, "-1", 403, "无权调用该接口", False, P.FORBIDDEN, "004"),
    E(F.YIPIAOYUN, "-1", 404, "未查询到对应识别请求", False, P.NOT_FOUND, "004"),
    E(F.YIPIAOYUN, "-1", 413, "图片最大支持1M", False, P.FILE_TOO_LARGE, "004"),
    E(F.YIPIAOYUN, "-1", 413, "请求体超过大小限制", False, P.PAYLOAD_TOO_LARGE, "004"),
    E(F.YIPIAOYUN, "-1", 415, "图片文件类型不支持", False, P.UNSUPPORTED_FILE_TYPE, "004"),
    E(F.YIPIAOYUN, "-1", 422, "图片URL无法访问", False, P.FILE_UNREACHABLE, "004"),
    E(F.YIPIAOYUN, "-1", 415, "请求的 Content-Type 不支持", False, P.UNSUPPORTED_MEDIA_TYPE),
    E(F.YIPIAOYUN, "-1", 200, "识别失败", False, P.UNRECOGNISABLE),
    E(F.YIPIAOYUN, "-1", 429, "请求过于频繁", True, P.RATE_LIMITED, "004"),
    E(F.YIPIAOYUN, "-1", 500, "系统内部错误", True, P.INTERNAL, "004"),
    E(F.YIPIAOYUN, "-1", 503, "系统繁忙,请稍后重试", True, P.BUSY),
)

del E, F, P

_BY_PROBLEM: dict[tuple[Family, Problem], CatalogueEntry] = {}
_BY_CODE: dict[tuple[Family, str], CatalogueEntry] = {}
for _entry in CATALOGUE:
    if _entry.problem is not None:
        _BY_PROBLEM.setdefault((_entry.family, _entry.problem), _entry)
    _BY_CODE.setdefault((_entry.family, _entry.code), _entry)


SUCCESS: frozenset[tuple[Family, str]] = frozenset(
    {
        (Family.PLATFORM, "200000"),
        (Family.MAYCUR, "ACK"),
        (Family.EXOCR, "0"),
        (Family.EXOCR_RESULT, "1"),
        (Family.YIPIAOYUN, "0"),
    }
)


class UnknownErrorCode(LookupError):
    pass


def lookup(family: Family, problem: Problem) -> CatalogueEntry:
    """The row a family answers ``problem`` with; every family answers the generic ones."""
    try:
        return _BY_PROBLEM[(family, problem)]
    except KeyError:
        raise LookupError(f"{family.value} has no code for {problem.value}") from None


def by_code(family: Family, code: str | int) -> CatalogueEntry:
    """The row of a code received on the wire (e.g. exocr's error_code 3213)."""
    try:
        return _BY_CODE[(family, str(code))]
    except KeyError:
        raise UnknownErrorCode(f"unknown {family.value} code: {code!r}") from None


class HubError(Exception):
    """A failure the caller should hear about, in its API's own envelope."""

    def __init__(self, problem: Problem, detail: str | None = None, **context: object) -> None:
        super().__init__(detail or problem.value)
        self.problem = problem
        self.detail = detail
        self.context = context

    def entry(self, family: Family) -> CatalogueEntry:
        return lookup(family, self.problem)


def invoice_message(problem: Problem, detail: str | None = None) -> tuple[int, str]:
    """The code and message every answer, Maycur remark and event gives an invoice's
    outcome: the catalogue's code and Chinese message, then the detail (the fields, the
    checker's words) after a colon. Rule names never reach it: they stay in the logs."""
    entry = lookup(Family.PLATFORM_INVOICE, problem)
    message = entry.message if not detail else f"{entry.message}: {detail}"
    return int(entry.code), message


def markdown_table() -> str:
    """The README's error table, generated from the catalogue (a test keeps them equal)."""
    lines = [
        "| family | code | HTTP | message | retry helps | situation | defined by |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in CATALOGUE:
        if e.problem is not None:
            situation = e.problem.value
        else:
            situation = "success" if (e.family, e.code) in SUCCESS else "upstream answer"
        lines.append(
            f"| {e.family.value} | `{e.code}` | {e.http_status} | {e.message} | "
            f"{'yes' if e.retryable else 'no'} | {situation} | {e.source} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # python -m fapiao.catalogue.errors > table.md
    print(markdown_table())
