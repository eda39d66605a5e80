"""Telegram updates exactly as reference/channels.md §1.2 documents them."""

from __future__ import annotations

TEXT = {
    "update_id": 815600001,
    "message": {
        "message_id": 1201,
        "from": {
            "id": 987654321,
            "is_bot": False,
            "first_name": "Anna",
            "last_name": "Kovacs",
            "username": "anna_k",
            "language_code": "en",
        },
        "chat": {
            "id": 987654321,
            "first_name": "Anna",
            "last_name": "Kovacs",
            "username": "anna_k",
            "type": "private",
        },
        "date": 1700000000,
        "text": "Hi, my order #5521 has not arrived",
    },
}
ANNA = {
    "id": 987654321,
    "is_bot": False,
    "first_name": "Anna",
    "username": "anna_k",
    "language_code": "en",
}
CHAT = {"id": 987654321, "first_name": "Anna", "username": "anna_k", "type": "private"}
PHOTO = {
    "update_id": 815600002,
    "message": {
        "message_id": 1202,
        "from": ANNA,
        "chat": CHAT,
        "date": 1700000060,
        "photo": [
            {
                "file_id": "AgACAgIAAxkBAAIEsmVkPhoto90",
                "file_unique_id": "AQADa1",
                "file_size": 1404,
                "width": 90,
                "height": 67,
            },
            {
                "file_id": "AgACAgIAAxkBAAIEsmVkPhoto1280",
                "file_unique_id": "AQADa3",
                "file_size": 120544,
                "width": 1280,
                "height": 960,
            },
        ],
        "caption": "This is the damaged box",
    },
}
DOCUMENT = {
    "update_id": 815600003,
    "message": {
        "message_id": 1203,
        "from": ANNA,
        "chat": CHAT,
        "date": 1700000120,
        "document": {
            "file_name": "invoice-5521.pdf",
            "mime_type": "application/pdf",
            "file_id": "BQACAgIAAxkBAAIEs2VkDoc",
            "file_unique_id": "AgADxw4AAm",
            "file_size": 48213,
        },
    },
}
STICKER = {
    "update_id": 815600004,
    "message": {
        "message_id": 1204,
        "from": ANNA,
        "chat": CHAT,
        "date": 1700000130,
        "sticker": {
            "file_id": "CAACAgSticker",
            "file_unique_id": "s1",
            "emoji": "👍",
            "width": 512,
            "height": 512,
            "is_animated": False,
        },
    },
}
LOCATION = {
    "update_id": 815600005,
    "message": {
        "message_id": 1205,
        "from": ANNA,
        "chat": CHAT,
        "date": 1700000140,
        "location": {"latitude": 48.2082, "longitude": 16.3738},
    },
}
