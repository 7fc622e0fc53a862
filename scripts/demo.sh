#!/usr/bin/env bash
# The main job, end to end, on a throwaway vault: create a vault, add accounts, show codes,
# make a verified backup, verify it, break a copy and watch verify refuse it.
# Usage: scripts/demo.sh [DIR]   (default: a new temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p twofold-cli
twofold="$PWD/target/release/twofold"
dir="${1:-$(mktemp -d)}"
mkdir -p "$dir"
export TWOFOLD_VAULT="$dir/vault.twofold" TWOFOLD_PASSWORD_FILE="$dir/password"
printf 'correct horse battery staple\n' > "$TWOFOLD_PASSWORD_FILE"
chmod 600 "$TWOFOLD_PASSWORD_FILE"
rm -f "$TWOFOLD_VAULT" "$TWOFOLD_VAULT.prev"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
step twofold init;                    "$twofold" init
step twofold add "otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"
"$twofold" add "otpauth://totp/GitHub:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"
step twofold add --secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ --issuer "Bäckerei" --account bob --digits 8
"$twofold" add --secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ --issuer "Bäckerei" --account bob --digits 8
step twofold add --secret FMXNK4QEGKVPULRTADY6JIDK5VHUBGZW --steam --issuer Steam --account gaben
"$twofold" add --secret FMXNK4QEGKVPULRTADY6JIDK5VHUBGZW --steam --issuer Steam --account gaben
step twofold list;                    "$twofold" list
step twofold codes;                   "$twofold" codes
step twofold backup create --out "$dir/backup.twfb"
"$twofold" backup create --out "$dir/backup.twfb"
step twofold backup verify "$dir/backup.twfb"
"$twofold" backup verify "$dir/backup.twfb"
cp "$dir/backup.twfb" "$dir/broken.twfb"
printf '\xff' | dd of="$dir/broken.twfb" bs=1 seek=900 conv=notrunc status=none
step twofold backup verify "$dir/broken.twfb"
if "$twofold" backup verify "$dir/broken.twfb"; then
  echo "demo: a damaged backup verified — this must never happen" >&2
  exit 1
fi
printf '\nThe damaged copy was refused. Live view: TWOFOLD_VAULT=%s TWOFOLD_PASSWORD_FILE=%s %s watch\n' \
  "$TWOFOLD_VAULT" "$TWOFOLD_PASSWORD_FILE" "$twofold"
