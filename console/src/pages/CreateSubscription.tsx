import { useEffect, useState } from "preact/hooks";
import { api, ApiError, enc, query, type Channel, type EventCode, type Subscription } from "../api";
import { allChannels, catalog, describeChannel, forgetCatalog } from "../data";
import { href } from "../router";
import { CopyButton, ErrorBox, Field, Json, Loading, Secret, describe, fieldError, useAsync, useDebounced } from "../ui";

type Kind = "HTTP" | "SQS" | "SNS" | "MAIL";
const ADDRESS_LABEL: Record<Kind, string> = {
  HTTP: "Webhook URL",
  SQS: "SQS queue URL",
  SNS: "SNS topic ARN",
  MAIL: "E-mail address",
};
const ADDRESS_HINT: Record<Kind, string> = {
  HTTP: "Deliveries are signed POSTs (Standard Webhooks headers); 2xx is success.",
  SQS: "https://sqs.<region>.amazonaws.com/<account>/<queue>. The queue needs the policy below.",
  SNS: "arn:aws:sns:<region>:<account>:<topic>. The topic needs the policy below.",
  MAIL: "Sent through SES from Herald's verified sender.",
};
const CUSTOM_CODE = /^[A-Za-z0-9][A-Za-z0-9_.\-]{0,19}$/;

interface Created {
  subscription: Subscription;
  channel?: Channel;
}

export function CreateSubscription({ project, kind }: { project: string; kind: "ica" | "custom" }) {
  const codes = useAsync(() => catalog(project), [project]);
  const channels = useAsync(allChannels, []);
  const [eventCode, setEventCode] = useState("");
  const [filter, setFilter] = useState("");
  const [payloadVersion, setPayloadVersion] = useState("");
  const [format, setFormat] = useState("");
  const [channelMode, setMode] = useState<"existing" | "new">("new");
  const [chosenMode, setChosenMode] = useState(false);
  const setChannelMode = (mode: "existing" | "new") => {
    setChosenMode(true);
    setMode(mode);
  };
  const [channelId, setChannelId] = useState("");
  const [type, setType] = useState<Kind>("HTTP");
  const [address, setAddress] = useState("");
  const [region, setRegion] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);

  useEffect(() => {
    if (channels.data?.length && !channelId) {
      setChannelId(channels.data[0].id);
      if (!chosenMode) setMode("existing"); // a choice the user made stands
    }
  }, [channels.data]);

  const known: EventCode | undefined = codes.data?.items.find((c) => c.code === eventCode);
  const filterCheck = useFilterCheck(filter, known?.examplePayload);
  const customProblem = kind === "custom" ? customCodeProblem(eventCode, codes.data?.items ?? []) : null;

  if (created) return <CreatedView project={project} created={created} />;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      let newChannel: Channel | undefined;
      let useChannel = channelId;
      if (channelMode === "new") {
        newChannel = await api.post<Channel>("/api/notificationChannels", {
          type,
          address: address.trim(),
          projects: [project],
          ...(type === "SNS" && region.trim() ? { awsRegion: region.trim() } : {}),
        });
        useChannel = newChannel.id;
      }
      const body = {
        eventCode: eventCode.trim(),
        notificationChannelId: useChannel,
        ...(filter.trim() ? { filterExpression: filter } : {}),
        ...(payloadVersion ? { payloadVersion } : {}),
        ...(format ? { format } : {}),
      };
      const path = kind === "custom" ? "customNotificationSubscriptions" : "notificationSubscriptions";
      try {
        const subscription = await api.post<Subscription>(`/api/projects/${enc(project)}/${path}`, body);
        if (kind === "custom") forgetCatalog();
        setCreated({ subscription, channel: newChannel });
      } catch (err) {
        if (newChannel) {
          // Keep what was made: the form now points at the new channel (its secret is shown below).
          setChannelMode("existing");
          setChannelId(newChannel.id);
          channels.reload();
          setCreated(null);
          setError(new ApiError(err instanceof ApiError ? err.status : 400, "partial", `The channel was created (${describeChannel(newChannel)}; its signing secret: ${newChannel.secret}), but the subscription was not: ${describe(err)}`, err instanceof ApiError ? err.field : undefined));
          return;
        }
        throw err;
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const analysis = known?.payloadType === "Analysis";
  return (
    <section>
      <p class="crumbs"><a href={href("p", project, "notifications")}>Notifications</a> ›</p>
      <h1>{kind === "custom" ? "Create a Custom event subscription" : "Create an ICA event subscription"}</h1>
      <form class="panel form" onSubmit={submit} noValidate>
        {kind === "ica" ? (
          <Field id="event-code" label="Event" error={fieldError(error, "eventCode")} hint={known ? `${known.details} · payload: ${known.payloadType}` : "Choose the event to be notified of."}>
            {codes.loading && !codes.data ? <Loading what="event codes" /> : null}
            <select id="event-code" value={eventCode} onChange={(e) => setEventCode((e.target as HTMLSelectElement).value)} required>
              <option value="">Choose an event…</option>
              {groups(codes.data?.items ?? []).map(([group, items]) => (
                <optgroup label={group} key={group}>
                  {items.map((c) => (
                    <option value={c.code} key={c.code}>
                      {c.code} — {c.description}
                    </option>
                  ))}
                </optgroup>
              ))}
              {codes.data?.customCodes.length ? (
                <optgroup label="This project's custom events">
                  {codes.data.customCodes.map((c) => <option value={c} key={c}>{c}</option>)}
                </optgroup>
              ) : null}
              <option value="*">* — every event of the project</option>
            </select>
          </Field>
        ) : (
          <Field
            id="event-code"
            label="Custom event code"
            error={fieldError(error, "eventCode") ?? customProblem}
            hint={
              <>
                1 to 20 characters of <code>A-Z a-z 0-9 _ . -</code>, starting with a letter or digit (e.g. <code>ICA_CUSTOM_123</code>);
                not a system event code and not starting with <code>herald.</code>. Events are then posted with{" "}
                <code>POST /api/projects/{project}/customEvents</code> <code>{'{"code", "content"}'}</code>.
              </>
            }
          >
            <input id="event-code" value={eventCode} onInput={(e) => setEventCode((e.target as HTMLInputElement).value)} required maxLength={20} aria-invalid={Boolean(customProblem)} />
          </Field>
        )}
        {analysis ? (
          <Field id="payload-version" label="Payload version" hint="V3 receives V3's status vocabulary only; V4 (the default) every state.">
            <select id="payload-version" value={payloadVersion} onChange={(e) => setPayloadVersion((e.target as HTMLSelectElement).value)}>
              <option value="">Default (V4)</option>
              <option value="V3">V3</option>
              <option value="V4">V4</option>
            </select>
          </Field>
        ) : null}
        <Field
          id="filter"
          label="Filter (optional)"
          error={fieldError(error, "filterExpression") ?? (filterCheck && !filterCheck.valid ? `${filterCheck.message}\n${filterCheck.caret}` : null)}
          hint={
            <>
              A Jayway JsonPath filter on the payload, e.g. <code>[?($.status == 'SUCCEEDED')]</code>.{" "}
              {filterCheck?.valid && filter.trim() ? (
                <span class="ok" data-testid="filter-ok">
                  Valid{filterCheck.matched === undefined || filterCheck.matched === null ? "" : filterCheck.matched ? "; matches the example payload" : "; does not match the example payload"}.
                </span>
              ) : null}
            </>
          }
        >
          <textarea id="filter" rows={2} value={filter} spellcheck={false} onInput={(e) => setFilter((e.target as HTMLTextAreaElement).value)} maxLength={2000} aria-describedby="filter-hint filter-error" />
        </Field>
        <Field id="format" label="Payload format">
          <select id="format" value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value)}>
            <option value="">The channel's default (ICA envelope)</option>
            <option value="ica">ICA envelope</option>
            <option value="onecodex">One Codex webhook</option>
          </select>
        </Field>

        <fieldset>
          <legend>Channel: where deliveries go</legend>
          {channels.loading && !channels.data ? <Loading what="channels" /> : null}
          <ErrorBox error={channels.error} />
          {channels.data ? (<>
          <div class="radios">
            <label><input type="radio" name="channel-mode" checked={channelMode === "existing"} disabled={!channels.data?.length} onChange={() => setChannelMode("existing")} /> Use an existing channel</label>
            <label><input type="radio" name="channel-mode" checked={channelMode === "new"} onChange={() => setChannelMode("new")} /> Create a new channel</label>
          </div>
          {channelMode === "existing" ? (
            <Field id="channel" label="Channel" error={fieldError(error, "notificationChannelId")}>
              <select id="channel" value={channelId} onChange={(e) => setChannelId((e.target as HTMLSelectElement).value)}>
                {(channels.data ?? []).map((c) => (
                  <option value={c.id} key={c.id}>{describeChannel(c)}{c.enabled ? "" : " (disabled)"}</option>
                ))}
              </select>
            </Field>
          ) : (
            <>
              <Field id="channel-type" label="Delivery target">
                <select id="channel-type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value as Kind)}>
                  <option value="HTTP">HTTP — webhook (POST)</option>
                  <option value="SQS">SQS — AWS SQS queue</option>
                  <option value="SNS">SNS — AWS SNS topic</option>
                  <option value="MAIL">Mail — e-mail address</option>
                </select>
              </Field>
              <Field id="address" label={ADDRESS_LABEL[type]} hint={ADDRESS_HINT[type]} error={fieldError(error, "address")}>
                <input id="address" type={type === "MAIL" ? "email" : "text"} value={address} spellcheck={false} onInput={(e) => setAddress((e.target as HTMLInputElement).value)} required />
              </Field>
              {type === "SNS" ? (
                <Field id="region" label="AWS region" hint="The topic's region, e.g. eu-west-1 (default: from the ARN)." error={fieldError(error, "awsRegion")}>
                  <input id="region" value={region} onInput={(e) => setRegion((e.target as HTMLInputElement).value)} placeholder="eu-west-1" />
                </Field>
              ) : null}
              {type === "SQS" || type === "SNS" ? <TargetPolicy type={type} address={address} /> : null}
            </>
          )}
          </>) : null}
        </fieldset>
        <ErrorBox error={error instanceof ApiError && error.field ? null : error} />
        <div class="actions">
          <button class="primary" type="submit" disabled={busy || !eventCode.trim() || Boolean(customProblem) || (channelMode === "new" ? !address.trim() : !channelId)}>
            {busy ? "Creating…" : "Create subscription"}
          </button>
          <a class="button" href={href("p", project, "notifications")}>Cancel</a>
        </div>
      </form>
    </section>
  );
}

function groups(items: EventCode[]): [string, EventCode[]][] {
  const names: Record<string, string> = { ica: "ICA events", onecodex: "One Codex events", herald: "Herald events" };
  const out = new Map<string, EventCode[]>();
  for (const item of items) {
    const group = names[item.platform] ?? item.platform;
    out.set(group, [...(out.get(group) ?? []), item]);
  }
  return [...out.entries()];
}

function customCodeProblem(code: string, system: EventCode[]): string | null {
  if (!code) return null;
  if (!CUSTOM_CODE.test(code)) return "1 to 20 characters of A-Z a-z 0-9 _ . -, starting with a letter or digit.";
  if (code.toLowerCase().startsWith("herald.")) return "Codes starting with herald. are reserved for Herald's own events.";
  if (system.some((c) => c.code === code)) return `${code} is a system event code; a custom code must differ from it.`;
  return null;
}

interface FilterCheck {
  valid: boolean;
  message?: string | null;
  caret?: string | null;
  matched?: boolean | null;
}

/** The API's own verdict on the filter as it is typed (debounced), with its caret message. */
function useFilterCheck(filter: string, example?: Record<string, unknown>): FilterCheck | null {
  const typed = useDebounced(filter, 250);
  const [check, setCheck] = useState<FilterCheck | null>(null);
  useEffect(() => {
    if (!typed.trim()) {
      setCheck(null);
      return;
    }
    let live = true;
    api.post<FilterCheck>("/api/filters:check", { filterExpression: typed, ...(example ? { payload: example } : {}) }).then(
      (answer) => live && setCheck(answer),
      () => live && setCheck(null),
    );
    return () => {
      live = false;
    };
  }, [typed, example]);
  return check;
}

function TargetPolicy({ type, address }: { type: "SQS" | "SNS"; address: string }) {
  const typed = useDebounced(address.trim(), 300);
  const policy = useAsync(
    () => (typed ? api.get<{ arn: string; policy: unknown }>(`/api/targetPolicy${query({ type, address: typed })}`) : Promise.resolve(null)),
    [type, typed],
  );
  return (
    <div class="policy" data-testid="target-policy">
      <h3>Resource policy for the {type === "SQS" ? "queue" : "topic"}</h3>
      <p class="muted small">
        Herald delivers from its own AWS account: add this statement to the {type === "SQS" ? "queue's access policy" : "topic's access policy"} (the same as{" "}
        <code>herald policy {type.toLowerCase()} --arn …</code>).
      </p>
      {!typed ? <p class="muted small">Enter the {type === "SQS" ? "queue URL" : "topic ARN"} to see it.</p> : null}
      {policy.error ? <p class="field-error" role="alert">{describe(policy.error)}</p> : null}
      {policy.data ? (
        <>
          <Json value={policy.data.policy} label={`Resource policy for ${policy.data.arn}`} />
          <CopyButton text={JSON.stringify(policy.data.policy, null, 2)} label="Copy policy" />
        </>
      ) : null}
    </div>
  );
}

function CreatedView({ project, created }: { project: string; created: Created }) {
  const { subscription, channel } = created;
  return (
    <section class="panel">
      <h1>Subscription created</h1>
      <p>
        <code>{subscription.eventCode}</code> events of <strong>{project}</strong> now go to{" "}
        {channel ? describeChannel(channel) : "the chosen channel"}.
      </p>
      {channel?.secret ? (
        <Secret value={channel.secret}>
          The new channel's signing secret, shown only now: receivers verify each delivery's <code>webhook-signature</code> with it. Copy it to your receiver's configuration.
        </Secret>
      ) : null}
      {channel && (channel.type === "SQS" || channel.type === "SNS") ? <TargetPolicy type={channel.type} address={channel.address} /> : null}
      <div class="actions">
        <a class="button primary" href={href("p", project, "notifications", subscription.id)}>Open the subscription</a>
        <a class="button" href={href("p", project, "notifications")}>Back to Notifications</a>
      </div>
    </section>
  );
}
