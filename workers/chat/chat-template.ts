/**
 * The exact text a model continues: its conversation template (conv_template in
 * mlc-chat-config.json) around the system prompt and every turn, ending with the
 * assistant's role prefix. Follows web-llm 0.2.86's Conversation.getPromptArray()
 * (which the package does not export) step for step, String.replace quirks
 * included, so the panel shows what the model really gets.
 */
import type { ChatConfig, ConvTemplateConfig } from '@mlc-ai/web-llm/lib/config';
import type { ChatMessage } from '../api/chat.ts';

const PLACEHOLDER = {
  system: '{system_message}',
  user: '{user_message}',
  assistant: '{assistant_message}',
  function: '{function_string}',
} as const;

/** web-llm's rule for an optional separator: absent means ": ", "" means none. */
const separator = (value: string | undefined): string => value ?? ': ';

/** The template web-llm uses: conv_template with the config's conv_config laid over it. */
export const conversationTemplate = (config: Pick<ChatConfig, 'conv_template' | 'conv_config'>): ConvTemplateConfig => ({
  ...config.conv_template,
  ...config.conv_config,
});

export function renderChatPrompt(template: ConvTemplateConfig, messages: ChatMessage[]): string {
  const [first, ...rest] = messages;
  const hasSystem = first?.role === 'system';
  const turns = hasSystem ? rest : messages;
  if (turns.some((turn) => turn.role === 'system')) {
    throw new Error('Only the first message may be the system prompt.');
  }
  if (template.seps.length === 0) throw new Error('The model\'s chat template has no separators ("seps").');

  // The request's system message replaces the template's default one.
  const systemMessage = hasSystem ? first.content : template.system_message;
  const systemPrompt =
    systemMessage === '' && template.render_empty_system_message === false
      ? ''
      : template.system_template.replace(PLACEHOLDER.system, systemMessage);

  const parts = [systemPrompt];
  turns.forEach((turn, i) => {
    const role = turn.role as 'user' | 'assistant';
    const roleTemplate = template.role_templates?.[role];
    const text =
      roleTemplate === undefined
        ? turn.content
        : roleTemplate.replace(PLACEHOLDER[role], turn.content).replace(PLACEHOLDER.function, '');
    const rolePrefix =
      template.add_role_after_system_message === false && systemPrompt !== '' && i === 0
        ? ''
        : template.roles[role] + separator(template.role_content_sep);
    parts.push(rolePrefix + text + template.seps[i % template.seps.length]);
  });
  parts.push(template.roles.assistant + separator(template.role_empty_sep));
  return parts.join('');
}
