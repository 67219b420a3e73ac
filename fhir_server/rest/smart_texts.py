"""The words of the sign-in pages, in Vietnamese and English, and scopes in plain words."""

from __future__ import annotations

from fhir_server.auth.scopes import parse_scope

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Sổ sức khỏe điện tử", "switch": "English", "switch_lang": "en",
        "login_heading": "Đăng nhập để tiếp tục với {app}",
        "username": "Số điện thoại hoặc mã BHXH", "password": "Mật khẩu",
        "login": "Đăng nhập", "login_failed": "Sai số điện thoại/mã BHXH hoặc mật khẩu.",
        "login_missing": "Hãy nhập số điện thoại hoặc mã BHXH và mật khẩu.",
        "login_throttled": "Quá nhiều lần đăng nhập sai. Hãy thử lại sau {seconds} giây "
                           "hoặc đặt lại mật khẩu.",
        "consent_heading": "{app} muốn được phép:", "allow": "Cho phép", "deny": "Từ chối",
        "consent_untick": "Bỏ chọn những quyền bạn không muốn cho.",
        "consent_note": "Bạn có thể thu hồi quyền này bất cứ lúc nào bằng cách đăng xuất "
                        "khỏi ứng dụng.",
        "picker_heading": "Chọn hồ sơ mà {app} được xem", "self": "Tôi",
        "family": "Người thân", "choose": "Tiếp tục",
        "error_heading": "Không thể tiếp tục đăng nhập",
        "unknown_client": "Ứng dụng này chưa được đăng ký với máy chủ.",
        "bad_redirect": "Địa chỉ chuyển hướng (redirect_uri) chưa được đăng ký cho ứng dụng "
                        "này.",
        "expired": "Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Hãy quay lại ứng dụng và "
                   "bắt đầu lại.",
        "csrf": "Biểu mẫu không hợp lệ. Hãy quay lại ứng dụng và bắt đầu lại.",
        "not_citizen": "Chỉ tài khoản công dân mới dùng được ứng dụng này.",
        "bad_patient": "Hồ sơ đã chọn không thuộc tài khoản của bạn.",
        "wrong_step": "Bước này đã được thực hiện. Hãy quay lại ứng dụng và bắt đầu lại.",
        "bad_request": "Yêu cầu không hợp lệ: mỗi tham số chỉ được gửi một lần.",
        "read": "xem", "search": "tìm kiếm", "create": "tạo", "update": "sửa",
        "delete": "xóa", "all_types": "mọi dữ liệu sức khỏe",
        "scope_resource": "{actions} {what} của hồ sơ được chọn", "and": "và",
        "launch/patient": "Biết hồ sơ bệnh nhân bạn chọn",
        "offline_access": "Tiếp tục truy cập khi bạn không dùng ứng dụng (tối đa 30 ngày)",
        "online_access": "Tiếp tục truy cập trong ngày, khi bạn đang dùng ứng dụng",
    },
    "en": {
        "title": "Electronic health book", "switch": "Tiếng Việt", "switch_lang": "vi",
        "login_heading": "Sign in to continue to {app}",
        "username": "Phone number or BHXH code", "password": "Password",
        "login": "Sign in", "login_failed": "Wrong phone/BHXH code or password.",
        "login_missing": "Enter your phone number or BHXH code and your password.",
        "login_throttled": "Too many failed sign-ins. Try again in {seconds} seconds or reset "
                           "your password.",
        "consent_heading": "{app} asks permission to:", "allow": "Allow", "deny": "Deny",
        "consent_untick": "Untick what you do not want to allow.",
        "consent_note": "You can take this permission back at any time by signing out of the "
                        "app.",
        "picker_heading": "Choose whose record {app} may see", "self": "Me",
        "family": "Family member", "choose": "Continue",
        "error_heading": "The sign-in cannot continue",
        "unknown_client": "This app is not registered with the server.",
        "bad_redirect": "The redirect address (redirect_uri) is not registered for this app.",
        "expired": "The sign-in has expired or is not valid. Go back to the app and start "
                   "again.",
        "csrf": "The form is not valid. Go back to the app and start again.",
        "not_citizen": "Only citizen accounts can use this app.",
        "bad_patient": "The chosen record does not belong to your account.",
        "wrong_step": "This step is done already. Go back to the app and start again.",
        "bad_request": "The request is not valid: send each parameter once.",
        "read": "read", "search": "search", "create": "create", "update": "change",
        "delete": "delete", "all_types": "all health data",
        "scope_resource": "{actions} {what} of the chosen record", "and": "and",
        "launch/patient": "Know which patient record you choose",
        "offline_access": "Keep access while you are not using the app (up to 30 days)",
        "online_access": "Keep access for the day, while you use the app",
    },
}
TYPE_NAMES: dict[str, dict[str, str]] = {
    "vi": {"Patient": "thông tin cá nhân", "Immunization": "lịch sử tiêm chủng",
           "AdverseEvent": "phản ứng sau tiêm", "AllergyIntolerance": "dị ứng",
           "Observation": "kết quả xét nghiệm và chỉ số", "Condition": "bệnh và vấn đề sức khỏe",
           "Appointment": "lịch hẹn", "RelatedPerson": "người thân",
           "QuestionnaireResponse": "phiếu khai báo",
           "ImmunizationRecommendation": "lịch tiêm đề nghị"},
    "en": {"Patient": "personal details", "Immunization": "vaccination history",
           "AdverseEvent": "reactions after vaccination", "AllergyIntolerance": "allergies",
           "Observation": "test results and measurements",
           "Condition": "illnesses and health problems", "Appointment": "appointments",
           "RelatedPerson": "family members", "QuestionnaireResponse": "questionnaire answers",
           "ImmunizationRecommendation": "recommended vaccinations"},
}
ACTION_WORDS = (("r", "read"), ("s", "search"), ("c", "create"), ("u", "update"),
                ("d", "delete"))


def texts(lang: str) -> dict[str, str]:
    """The page texts of a language (vi or en)."""
    return TEXTS.get(lang, TEXTS["vi"])


def describe_scope(scope: str, lang: str) -> str:
    """A scope in plain words, e.g. 'Read and search vaccination history of the chosen record'."""
    words = texts(lang)
    if scope in words:
        return words[scope]
    permission = parse_scope(scope)
    if permission is None:
        return scope
    verbs = [words[w] for a, w in ACTION_WORDS if a in permission.actions]
    actions = " ".join([", ".join(verbs[:-1]), words["and"], verbs[-1]]) if len(verbs) > 1 \
        else verbs[0]
    what = words["all_types"] if permission.type_name == "*" else TYPE_NAMES.get(
        lang, {}).get(permission.type_name, permission.type_name)
    text = words["scope_resource"].format(actions=actions, what=what)
    return text[:1].upper() + text[1:]
