#!/usr/bin/env bash
# Sign, package, notarise and staple the macOS build of makini-desktop.
#
#   packaging/macos/build_dmg.sh [APP] [DMG]
#     APP  the .app PyInstaller built  (default: dist/makini-desktop.app)
#     DMG  the disk image to write      (default: makini-desktop-<version>.dmg next to APP)
#
# Environment:
#   MAKINI_CODESIGN_IDENTITY   required: "Developer ID Application: <Company> (<TEAMID>)" or its
#                              SHA-1 (see: security find-identity -v -p codesigning)
#   MAKINI_NOTARY_PROFILE      required: a notarytool keychain profile, stored once with
#                              xcrun notarytool store-credentials PROFILE \
#                                  --apple-id ID --team-id TEAMID --password APP_SPECIFIC_PW
#   MAKINI_SKIP_NOTARIZATION=1 sign and make the DMG only (a local test build; other Macs'
#                              Gatekeeper will refuse it)
#
# Signing goes inside out, never with `codesign --deep`: every nested Mach-O file (Python
# extensions, dylibs, the Qt frameworks' binaries), then each framework bundle (deepest
# first), then the app with the entitlements. All with the hardened runtime and a secure
# timestamp, which notarisation requires. The DMG is signed, notarised as a whole (that
# covers the app inside it) and the ticket stapled to it, so Gatekeeper accepts it offline.
set -euo pipefail

APP_NAME=makini-desktop

die() { printf 'build_dmg.sh: error: %s\n' "$*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ENTITLEMENTS=$HERE/entitlements.plist

# -- preconditions: fail before doing anything ------------------------------------------------

[[ "$(uname -s)" == Darwin ]] ||
  die "this script runs on macOS only (codesign, hdiutil, notarytool); this is $(uname -s)"
for tool in codesign hdiutil xcrun ditto file security spctl xattr /usr/libexec/PlistBuddy; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "$tool not found (install the Xcode command line tools: xcode-select --install)"
done
for tool in notarytool stapler; do
  xcrun --find "$tool" >/dev/null 2>&1 || die "xcrun $tool not found (Xcode 13 or later)"
done

[[ -n "${MAKINI_CODESIGN_IDENTITY:-}" ]] ||
  die "set MAKINI_CODESIGN_IDENTITY to a 'Developer ID Application: ... (TEAMID)' identity" \
      "(security find-identity -v -p codesigning lists them)"
NOTARIZE=1
if [[ "${MAKINI_SKIP_NOTARIZATION:-0}" == 1 ]]; then
  NOTARIZE=0
else
  [[ -n "${MAKINI_NOTARY_PROFILE:-}" ]] ||
    die "set MAKINI_NOTARY_PROFILE to a notarytool keychain profile" \
        "(xcrun notarytool store-credentials PROFILE ...), or MAKINI_SKIP_NOTARIZATION=1"
fi
IDENTITY=$MAKINI_CODESIGN_IDENTITY
security find-identity -v -p codesigning | grep -qF -- "$IDENTITY" ||
  die "no valid code-signing identity '$IDENTITY' in the keychain" \
      "(security find-identity -v -p codesigning)"

APP=${1:-$ROOT/dist/$APP_NAME.app}
APP=${APP%/}
[[ -d "$APP" && -f "$APP/Contents/Info.plist" && -x "$APP/Contents/MacOS/$APP_NAME" ]] ||
  die "$APP is not the $APP_NAME app bundle: build it first (python packaging/build.py)"
[[ -f "$ENTITLEMENTS" ]] || die "$ENTITLEMENTS is missing"
VERSION=$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$APP/Contents/Info.plist")
DMG=${2:-$(dirname "$APP")/$APP_NAME-$VERSION.dmg}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/makini-dmg.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

sign() {
  codesign --force --options runtime --timestamp --sign "$IDENTITY" "$@"
}

# Deepest paths first, one per line (app paths have no newlines).
by_depth() { awk -F/ '{ print NF "\t" $0 }' | sort -rn | cut -f2-; }

# -- sign -------------------------------------------------------------------------------------

step "signing $APP ($VERSION) as $IDENTITY"
# Extended attributes (quarantine, Finder info) make codesign refuse the bundle.
xattr -cr "$APP"

# 1. Every Mach-O file except the app's own executable. Symlinks are skipped (-type f):
#    they point at files signed here.
count=0
while IFS= read -r f; do
  if file -b "$f" | grep -q 'Mach-O'; then
    sign "$f" >/dev/null
    count=$((count + 1))
  fi
done < <(find "$APP/Contents" -type f ! -path "$APP/Contents/MacOS/$APP_NAME" | by_depth)
echo "signed $count nested binaries"

# 2. Framework bundles (the Qt frameworks), deepest first: their seal covers their binaries.
while IFS= read -r framework; do
  sign "$framework" >/dev/null
  echo "signed ${framework#"$APP"/}"
done < <(find "$APP/Contents" -type d -name '*.framework' | by_depth)

# 3. The app itself, last, with the entitlements of its main executable.
sign --entitlements "$ENTITLEMENTS" "$APP"
codesign --verify --strict --deep --verbose=2 "$APP"  # --deep is right for *verifying*
codesign --display --entitlements - "$APP"

# -- DMG --------------------------------------------------------------------------------------

step "creating $DMG"
STAGE=$WORK/stage
mkdir -p "$STAGE"
ditto "$APP" "$STAGE/$(basename "$APP")"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "$APP_NAME $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO \
  -ov "$DMG"
codesign --force --timestamp --sign "$IDENTITY" "$DMG"
codesign --verify --verbose=2 "$DMG"

if [[ $NOTARIZE == 0 ]]; then
  step "MAKINI_SKIP_NOTARIZATION=1: $DMG is signed but NOT notarised"
  exit 0
fi

# -- notarise and staple ----------------------------------------------------------------------

step "notarising $DMG (profile $MAKINI_NOTARY_PROFILE; usually a few minutes)"
RESULT=$WORK/notarytool.json
set +e
xcrun notarytool submit "$DMG" --keychain-profile "$MAKINI_NOTARY_PROFILE" --wait \
  --output-format json >"$RESULT"
submit_status=$?
set -e
json_field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" "$RESULT" | head -n1; }
STATUS=$(json_field status)
ID=$(json_field id)
if [[ $submit_status -ne 0 || "$STATUS" != Accepted ]]; then
  cat "$RESULT" >&2
  if [[ -n "$ID" ]]; then
    echo "-- notarisation log of submission $ID:" >&2
    xcrun notarytool log "$ID" --keychain-profile "$MAKINI_NOTARY_PROFILE" >&2 || true
  fi
  die "notarisation failed: status '${STATUS:-none}', notarytool exit $submit_status"
fi
echo "notarisation accepted (submission $ID)"

step "stapling the ticket to $DMG"
xcrun stapler staple "$DMG"
xcrun stapler validate "$DMG"
spctl --assess --type open --context context:primary-signature --verbose=2 "$DMG"

step "done: $DMG"
