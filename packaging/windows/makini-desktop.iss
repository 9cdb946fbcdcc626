; Inno Setup 6.3+ script: installs the PyInstaller one-dir build of makini-desktop.
;
;   python packaging\build.py --installer          (builds, smoke-tests, then runs ISCC)
;   ISCC /DAppVersion=0.1.0 packaging\windows\makini-desktop.iss
;   ISCC /DAppVersion=0.1.0 /DSourceDir=C:\build\dist\makini-desktop /DOutputDir=C:\out ...
;
; Defines (ISCC /D...):
;   AppVersion   required: the version the installer shows (build.py passes __version__)
;   FileVersion  the numeric a.b.c[.d] for the setup .exe's version resource (default:
;                AppVersion; pass it when AppVersion is not numeric, e.g. 0.2.0rc1)
;   SourceDir    the one-dir build (default ..\..\dist\makini-desktop)
;   OutputDir    where the setup .exe goes (default ..\..\dist)
;   SignTool     optional: the name of a sign tool given with /S, e.g.
;                /Smysign="signtool.exe sign /fd sha256 /tr http://timestamp.digicert.com /td sha256 /a $f"
;                /DSignTool=mysign    (signs the setup and the uninstaller)
;
; Per-user by default (no administrator rights, into %LOCALAPPDATA%\Programs), or for all
; users (Program Files, elevates) when chosen in the dialog or with /ALLUSERS on the command
; line. The user's settings, tokens (in Credential Manager) and offline cache are not removed
; by the uninstaller.

#if Ver < EncodeVer(6, 3, 0)
  #error Inno Setup 6.3 or later is required (x64compatible architectures)
#endif

#ifndef AppVersion
  #error AppVersion is not defined: run ISCC /DAppVersion=X.Y.Z (packaging\build.py --installer does)
#endif
#ifndef FileVersion
  #define FileVersion AppVersion
#endif
#ifndef SourceDir
  #define SourceDir AddBackslash(SourcePath) + "..\..\dist\makini-desktop"
#endif
#ifndef OutputDir
  #define OutputDir AddBackslash(SourcePath) + "..\..\dist"
#endif

#define AppName "makini-desktop"
#define AppExe "makini-desktop.exe"
#define CliExe "makini-desktop-cli.exe"

#if !FileExists(AddBackslash(SourceDir) + AppExe) || !FileExists(AddBackslash(SourceDir) + CliExe)
  #error The one-dir build is missing or incomplete: build it first (python packaging\build.py)
#endif

[Setup]
; Never change AppId: Windows matches upgrades and the uninstaller entry by it.
AppId={{F3A41F34-39AA-48ED-8746-E5C10CE3D8B4}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Makini
AppPublisherURL=https://www.makini.io
AppSupportURL=https://www.makini.io
VersionInfoVersion={#FileVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} setup
; Per-user or per-machine: the dialog (and /ALLUSERS, /CURRENTUSER) decide; {auto*} follow.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Qt 6 needs Windows 10 1809 or later.
MinVersion=10.0.17763
SetupIconFile=..\..\resources\icons\makini-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-setup
; Close a running makini-desktop before replacing its files.
CloseApplications=yes
RestartApplications=no
#ifdef SignTool
SignTool={#SignTool}
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: no library of the previous version may linger.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
