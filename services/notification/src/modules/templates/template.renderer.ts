import Handlebars from 'handlebars';
import { formatSeatList, formatWhen, plural, roleName } from './template.helpers.ts';

/** A stored template version: handlebars sources for subject and body. */
export interface TemplateSource {
  type: string;
  channel: string;
  locale: string;
  version: number;
  subject: string;
  body: string;
}

export interface RenderedMessage {
  subject: string;
  body: string;
}

type Compiled = { subject: Handlebars.TemplateDelegate; body: Handlebars.TemplateDelegate };

/**
 * Renders templates as plain text: every channel (email included) is sent as text/plain, so
 * nothing is HTML-escaped and no markup from event data can reach a mail client as HTML.
 */
export function createTemplateRenderer() {
  const engine = Handlebars.create();
  engine.registerHelper('when', (iso: string, zone: unknown) =>
    formatWhen(iso, typeof zone === 'string' ? zone : 'UTC'),
  );
  engine.registerHelper('seatList', (seats: number[] | undefined) => formatSeatList(seats ?? []));
  engine.registerHelper('plural', (count: number, one: string, many: string) =>
    plural(count, one, many),
  );
  engine.registerHelper('roleName', roleName);

  // Stored versions never change, so a compiled version can be kept for the process lifetime.
  const cache = new Map<string, Compiled>();
  const options = { noEscape: true, strict: false } as const;

  return {
    render(template: TemplateSource, context: Record<string, unknown>): RenderedMessage {
      const key = `${template.type}|${template.channel}|${template.locale}|${template.version}`;
      let compiled = cache.get(key);
      if (!compiled) {
        compiled = {
          subject: engine.compile(template.subject, options),
          body: engine.compile(template.body, options),
        };
        cache.set(key, compiled);
      }
      return {
        subject: compiled.subject(context).replace(/\s+/g, ' ').trim(),
        body: compiled
          .body(context)
          .replace(/\n{3,}/g, '\n\n')
          .trim(),
      };
    },
  };
}

export type TemplateRenderer = ReturnType<typeof createTemplateRenderer>;
