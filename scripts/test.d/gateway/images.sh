# gateway.sh, part 3: a real-sized photo uploads through the gateway (the auth check used to
# inherit the 64 KiB body limit and fail every larger upload with 500).

# 1 MiB: a PNG signature and IHDR start (story-service sniffs the magic bytes), then padding.
python3 -c '
import sys
head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
sys.stdout.buffer.write(head + bytes(1024 * 1024 - len(head)))' > "$WORK/photo.png"
upload=$(curl -s -w '\n%{http_code}' -X POST "$GW/stories/$STORY_ID/image" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: image/png' --data-binary "@$WORK/photo.png")
uploaded() { [ "$(tail -n 1 <<<"$upload")" = 201 ] && [ "$(head -n 1 <<<"$upload" | json_field '["bytes"]')" = 1048576 ]; }
check "a 1 MiB PNG through the gateway -> 201, 1048576 bytes ($(tail -n 1 <<<"$upload"))" uploaded
check "the image reads back through the gateway, byte for byte" bash -c '
    curl -fsS -o "$2" "$1/stories/$3/image" && cmp -s "$2" "$4"' _ "$GW" "$WORK/photo.back" "$STORY_ID" "$WORK/photo.png"
