// Every wire format the gateway speaks, by id.
import { anthropic } from './anthropic';
import { gemini } from './gemini';
import { ollama } from './ollama';
import { openai } from './openai';
import type { WireFormat, WireId } from './types';

export const WIRE_FORMATS: Record<WireId, WireFormat> = { openai, anthropic, gemini, ollama };

export type { PrepareOptions, PreparedRequest, ResponseTap, WireFormat, WireId, WireUsage } from './types';
