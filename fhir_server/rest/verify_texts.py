"""The words of the health-card verifier page (/verify), in Vietnamese and English.

Both languages go to the browser with the page, so the language switch works offline."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Kiểm tra chứng nhận tiêm chủng", "switch": "English", "switch_lang": "en",
        "intro": "Dán mã shc:/, tải ảnh mã QR lên hoặc quét bằng camera. Chữ ký được kiểm tra "
                 "trên máy chủ; ảnh và mã được đọc ngay trên trình duyệt.",
        "paste_label": "Mã thẻ (shc:/…)", "check": "Kiểm tra",
        "file_label": "Ảnh mã QR", "scan": "Quét bằng camera", "stop": "Dừng quét",
        "checking": "Đang kiểm tra…",
        "valid": "Hợp lệ", "invalid": "Không hợp lệ", "not-trusted": "Không rõ nơi cấp",
        "revoked": "Đã bị thu hồi", "expired": "Đã hết hạn", "not-yet-valid": "Chưa có hiệu lực",
        "valid_note": "Chữ ký hợp lệ, do nơi cấp đáng tin cậy ký.",
        "invalid_note": "Không hiển thị thông tin cá nhân của thẻ không hợp lệ.",
        "reasons": "Lý do", "warnings": "Lưu ý",
        "name": "Họ và tên", "birth_date": "Ngày sinh", "issuer": "Nơi cấp",
        "doses": "Các mũi tiêm", "vaccine": "Vắc xin", "date": "Ngày tiêm", "lot": "Số lô",
        "performer": "Nơi tiêm",
        "error_empty": "Hãy dán một mã shc:/ trước khi kiểm tra.",
        "error_format": "Đây không phải mã thẻ sức khỏe: mã phải bắt đầu bằng shc:/ và chỉ "
                        "gồm chữ số.",
        "error_no_qr": "Không tìm thấy mã QR trong ảnh này.",
        "error_image": "Không đọc được tệp này như một ảnh.",
        "error_not_shc": "Mã QR này không phải thẻ sức khỏe (không bắt đầu bằng shc:/).",
        "error_network": "Không kết nối được máy chủ để kiểm tra chữ ký. Hãy thử lại khi có "
                         "mạng.",
        "error_server": "Máy chủ không kiểm tra được mã này:",
        "error_camera": "Không mở được camera:",
    },
    "en": {
        "title": "Vaccination certificate verifier", "switch": "Tiếng Việt", "switch_lang": "vi",
        "intro": "Paste a shc:/ code, upload a QR code image or scan it with the camera. The "
                 "signature is checked by the server; images and codes are read in the browser.",
        "paste_label": "Card code (shc:/…)", "check": "Verify",
        "file_label": "QR code image", "scan": "Scan with camera", "stop": "Stop scanning",
        "checking": "Checking…",
        "valid": "Valid", "invalid": "Not valid", "not-trusted": "Unknown issuer",
        "revoked": "Revoked", "expired": "Expired", "not-yet-valid": "Not yet valid",
        "valid_note": "The signature is valid and comes from a trusted issuer.",
        "invalid_note": "No personal data is shown for a card that is not valid.",
        "reasons": "Reasons", "warnings": "Warnings",
        "name": "Name", "birth_date": "Date of birth", "issuer": "Issuer",
        "doses": "Doses", "vaccine": "Vaccine", "date": "Date", "lot": "Lot",
        "performer": "Given by",
        "error_empty": "Paste a shc:/ code before verifying.",
        "error_format": "This is not a health card code: it must start with shc:/ followed "
                        "by digits only.",
        "error_no_qr": "No QR code was found in this image.",
        "error_image": "This file could not be read as an image.",
        "error_not_shc": "This QR code is not a health card (it does not start with shc:/).",
        "error_network": "The server could not be reached to check the signature. Try again "
                         "when online.",
        "error_server": "The server could not check this code:",
        "error_camera": "The camera could not be opened:",
    },
}


def page_language(asked: str | None, best_match: object) -> str:
    """vi or en: the ?lang= asked for, else the browser's preference, else Vietnamese."""
    if asked in TEXTS:
        return str(asked)
    match = best_match(list(TEXTS)) if callable(best_match) else None
    return match if isinstance(match, str) and match in TEXTS else "vi"
