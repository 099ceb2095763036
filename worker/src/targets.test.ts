import { describe, expect, test } from 'bun:test'
import { BlockedTargetError, checkTarget } from './targets.ts'

const refused = [
  'http://127.0.0.1/',
  'http://localhost:8080/',
  'http://[::1]/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://[fd00:ec2::254]/',
  'http://[fe80::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:a9fe:a9fe]/',
  'http://0.0.0.0/',
]

describe('outgoing request guard', () => {
  for (const url of refused) {
    test(`${url} is refused by default`, async () => {
      expect(checkTarget(new URL(url), false)).rejects.toBeInstanceOf(BlockedTargetError)
    })
  }

  test('public addresses are allowed', async () => {
    expect(await checkTarget(new URL('https://93.184.215.14/'), false)).toBeUndefined()
    expect(await checkTarget(new URL('http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/'), false)).toBeUndefined()
  })

  test('private addresses are allowed when explicitly enabled', async () => {
    expect(await checkTarget(new URL('http://127.0.0.1/'), true)).toBeUndefined()
  })

  test('schemes other than http and https are refused even when private targets are allowed', async () => {
    expect(checkTarget(new URL('file:///etc/passwd'), true)).rejects.toThrow('Only http and https')
  })
})
