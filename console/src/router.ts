// Hash routes (#/p/demo/events/…): every page is the same index.html, so the server needs no
// route table, and nothing after '#' ever reaches a server or its logs.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  path: string[];
  params: URLSearchParams;
}

function parse(): Route {
  const hash = location.hash.replace(/^#/, "");
  const [path, search] = hash.split("?", 2);
  return {
    path: path.split("/").filter(Boolean).map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    }),
    params: new URLSearchParams(search ?? ""),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const update = () => setRoute(parse());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

export function href(...parts: (string | undefined)[]): string {
  return "#/" + parts.filter((p): p is string => p !== undefined).map(encodeURIComponent).join("/");
}

export function go(target: string): void {
  location.hash = target.replace(/^#/, "");
}
