import { describe, expect, it } from 'vitest';
import { acceptUrl } from './invite.token.ts';

describe('acceptUrl', () => {
  it('puts the accept page under the app URL, keeping its path', () => {
    expect(acceptUrl('http://localhost:8080', 'abc')).toBe(
      'http://localhost:8080/invites/accept?token=abc',
    );
    expect(acceptUrl('https://example.com/app', 'abc')).toBe(
      'https://example.com/app/invites/accept?token=abc',
    );
    expect(acceptUrl('https://example.com/app/', 'a+b/c=')).toBe(
      'https://example.com/app/invites/accept?token=a%2Bb%2Fc%3D',
    );
  });
});
