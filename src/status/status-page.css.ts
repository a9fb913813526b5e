/** The page's own styles, served as a file: the Content-Security-Policy forbids inline styles. */
export const STATUS_PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { background: #1d232a; color: #fff; padding: 12px 24px; }
header h1 { margin: 0; font-size: 20px; }
header .group { font-weight: normal; opacity: 0.8; margin-left: 8px; }
header p { margin: 4px 0 0; opacity: 0.8; font-size: 12px; }
main { padding: 8px 24px 24px; display: grid; gap: 8px 24px;
  grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 16px 12px; min-width: 0; }
h2 { font-size: 15px; margin: 6px 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid #eef0f3; vertical-align: top;
  overflow-wrap: anywhere; }
th { font-weight: 600; color: #56606b; }
td { font-family: ui-monospace, monospace; font-size: 12px; }
.note { color: #56606b; font-size: 12px; margin: 6px 0 0; }
#rate-chart { min-height: 240px; }
`;
